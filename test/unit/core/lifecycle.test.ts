import { describe, expect, it } from 'vitest';
import { createLifecycle } from '../../../src/core/lifecycle.js';

describe('lifecycle signal handlers', () => {
  it.each([
    ['registered last', false],
    ['registered first', true],
  ])('are removed once every cleanup has run (%s)', async (_label, first) => {
    const before = process.listenerCount('SIGTERM');
    const lifecycle = createLifecycle();
    const seen: number[] = [];
    if (first) lifecycle.handleSignals();
    lifecycle.defer('a', async () => {
      await new Promise((r) => setTimeout(r, 20));
      // Still there while cleanups run: a second signal must find them.
      seen.push(process.listenerCount('SIGTERM'));
    });
    if (!first) lifecycle.handleSignals();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    await lifecycle.close();
    expect(seen).toEqual([before + 1]);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
