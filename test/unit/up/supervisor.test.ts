/**
 * The supervisor's stop order, with real child processes (tiny node scripts):
 * the `stopLast` children get SIGTERM only after the others have exited.
 */
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../../src/up/supervisor.js';

// Prints "up", then on SIGTERM prints "term <ms>" and exits after the delay given as argument.
const CHILD = `
const delay = Number(process.argv[1]);
process.on('SIGTERM', () => {
  console.log('term ' + Date.now());
  setTimeout(() => process.exit(0), delay);
});
setInterval(() => {}, 1000);
console.log('up');
`;

/** Until both children have printed "up" (bounded). */
async function bothUp(lines: ReadonlyArray<{ line: string }>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (lines.filter((l) => l.line === 'up').length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}

describe('supervisor stop', () => {
  it('stops the stopLast children after the others have exited, all within the grace', async () => {
    const lines: Array<{ name: string; line: string }> = [];
    const exits: Array<{ name: string; at: number }> = [];
    const sup = createSupervisor({
      command: [process.execPath, '-e', CHILD],
      env: process.env,
      onLine: (name, line) => lines.push({ name, line }),
      onEvent: (e) => {
        if (e.type === 'exit') exits.push({ name: e.name, at: Date.now() });
      },
    });
    sup.start([
      { name: 'dispatch', args: ['0'], stopLast: true },
      { name: 'consume', args: ['300'] },
    ]);
    await bothUp(lines);
    const { killed } = await sup.stop(5_000);
    expect(killed).toEqual([]);
    const termAt = (name: string) =>
      Number(lines.find((l) => l.name === name && l.line.startsWith('term'))!.line.split(' ')[1]);
    const consumerExit = exits.find((e) => e.name === 'consume')!.at;
    // The dispatcher was asked to stop only once the consumer (300 ms drain) had gone.
    expect(termAt('dispatch')).toBeGreaterThanOrEqual(consumerExit - 5);
    expect(termAt('dispatch') - termAt('consume')).toBeGreaterThanOrEqual(250);
    expect(sup.list().every((p) => p.state === 'stopped')).toBe(true);
  });

  it('a child that ignores SIGTERM is killed when the grace period is over', async () => {
    const sup = createSupervisor({
      command: [
        process.execPath,
        '-e',
        "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')",
      ],
      env: process.env,
      onLine: () => undefined,
    });
    sup.start([{ name: 'stubborn', args: [] }]);
    const t0 = Date.now();
    while (sup.list()[0]?.state !== 'up' && Date.now() - t0 < 5_000)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const stopAt = Date.now();
    const { killed } = await sup.stop(300);
    expect(killed).toEqual(['stubborn']);
    expect(Date.now() - stopAt).toBeLessThan(3_000);
    expect(sup.list()[0]?.state).toBe('stopped');
  });

  it('a first-wave child that overstays is killed at the deadline; the last wave still drains', async () => {
    const lines: Array<{ name: string; line: string }> = [];
    const sup = createSupervisor({
      command: [process.execPath, '-e', CHILD],
      env: process.env,
      onLine: (name, line) => lines.push({ name, line }),
    });
    // 'slow' takes 5 s to exit on SIGTERM, past the 400 ms grace.
    sup.start([
      { name: 'dispatch', args: ['100'], stopLast: true },
      { name: 'slow', args: ['5000'] },
    ]);
    await bothUp(lines);
    const { killed } = await sup.stop(400);
    expect(killed).toEqual(['slow']);
    expect(lines.some((l) => l.name === 'dispatch' && l.line.startsWith('term'))).toBe(true);
    expect(sup.list().every((p) => p.state === 'stopped')).toBe(true);
  });
});
