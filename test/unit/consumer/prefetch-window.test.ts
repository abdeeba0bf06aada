import { describe, expect, it } from 'vitest';
import { createPrefetchWindow } from '../../../src/consumer/prefetch-window.js';

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
});
