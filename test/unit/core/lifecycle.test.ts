import { describe, expect, it } from 'vitest';
import { createLifecycle } from '../../../src/core/lifecycle.js';

describe('lifecycle signal handlers', () => {
  it('stay installed through the cleanups and after (a signal during the exit must find them), until removed', async () => {
    const before = process.listenerCount('SIGTERM');
    const lifecycle = createLifecycle();
    const seen: number[] = [];
    const remove = lifecycle.handleSignals();
    lifecycle.defer('a', async () => {
      await new Promise((r) => setTimeout(r, 20));
      seen.push(process.listenerCount('SIGTERM'));
    });
    await lifecycle.close();
    expect(seen).toEqual([before + 1]);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    remove();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
