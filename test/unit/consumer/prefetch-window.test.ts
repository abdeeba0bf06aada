import { describe, expect, it } from 'vitest';
import {
  createPrefetchWindow,
  PROCESS_WINDOW_BYTES,
  QUEUE_WINDOW_BYTES,
  windowForProcess,
} from '../../../src/consumer/prefetch-window.js';

describe('prefetch window', () => {
  it('starts at the initial window, then sizes to the byte budget within bounds', () => {
    const w = createPrefetchWindow({ initial: 64, maximum: 1000, minimum: 16, bytes: 8_000_000 });
    expect(w.for('A')).toBe(64);
    w.observe('A', 100, 100 * 200); // 200-byte messages: budget allows 40,000 -> capped
    expect(w.for('A')).toBe(1000);
    w.observe('B', 10, 10 * 600_000); // 600 KB messages -> 13 -> raised to the minimum
    expect(w.for('B')).toBe(16);
    w.observe('C', 4, 4 * 100_000);
    expect(w.for('C')).toBe(80);
    w.observe('C', 0, 0); // an empty lease teaches nothing
    expect(w.for('C')).toBe(80);
  });

  it('shares one budget among the queues of a process draining many at once', () => {
    const full = { bytes: QUEUE_WINDOW_BYTES, minimum: 16, initial: 64 };
    expect(windowForProcess(1, 64)).toEqual(full);
    expect(windowForProcess(32, 64)).toEqual(full);
    const many = windowForProcess(96, 64);
    expect(many.bytes * 96).toBeLessThanOrEqual(PROCESS_WINDOW_BYTES);
    expect(many).toMatchObject({ minimum: 5, initial: 21 });
    // 270 KB messages (3000 readings): 31 per queue alone, 10 each at 96 queues at once;
    // 2 MB messages: the floor, 5 each.
    const w = createPrefetchWindow({ maximum: 1000, ...many });
    expect(w.for('A')).toBe(21);
    w.observe('A', 10, 10 * 270_000);
    expect(w.for('A')).toBe(10);
    w.observe('B', 2, 2 * 2_000_000);
    expect(w.for('B')).toBe(5);
    expect(windowForProcess(100_000, 64)).toMatchObject({ minimum: 1, initial: 1 });
  });
});
