/**
 * The signal contract of the long-running commands: the first SIGINT/SIGTERM drains (the
 * process exits 0 once its cleanups ran), a second one during the drain exits at once
 * with 130. Needs `npm run build` (npm test runs it first).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LIFECYCLE = fileURLToPath(new URL('../../dist/core/lifecycle.js', import.meta.url));

/** A process whose drain takes `drainMs`, like a consumer finishing a batch. */
function drainingProcess(drainMs: number, signalsFirst = false, lingerMs = 0) {
  const script = `
    const { createLifecycle } = await import(${JSON.stringify(LIFECYCLE)});
    const lifecycle = createLifecycle();
    const keepAlive = setInterval(() => undefined, 1000);
    if (${signalsFirst}) lifecycle.handleSignals();
    lifecycle.defer('slow drain', () => new Promise((r) => setTimeout(r, ${drainMs})));
    lifecycle.defer('timer', () => clearInterval(keepAlive));
    // Something that keeps the process up a moment after its cleanups (a socket closing).
    lifecycle.defer('linger', () => void setTimeout(() => undefined, ${lingerMs}));
    if (!${signalsFirst}) lifecycle.handleSignals();
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited };
}

describe('signals', () => {
  it('one SIGTERM: drains, exit 0', async () => {
    const p = drainingProcess(300);
    await p.ready;
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it.each([
    ['handlers installed last', false],
    ['handlers installed first', true],
  ])(
    'a second SIGTERM during the drain: exit 130 at once, not killed by the signal (%s)',
    async (_l, first) => {
      const p = drainingProcess(10_000, first);
      await p.ready;
      const started = Date.now();
      p.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 130, signal: null });
      expect(Date.now() - started).toBeLessThan(5_000);
    },
  );

  it('a second SIGTERM after the drain, while the process is still on its way out: exit 130, not killed', async () => {
    const p = drainingProcess(30, false, 1_000);
    await p.ready;
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 130, signal: null });
  });
});
