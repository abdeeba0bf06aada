/** The supervisor of `ingest up` with real child processes (plain node scripts). */
import { describe, expect, it } from 'vitest';
import { createSupervisor, type SupervisorEvent } from '../../../src/up/supervisor.js';

function harness() {
  const lines: string[] = [];
  const events: SupervisorEvent[] = [];
  const sup = createSupervisor({
    command: [process.execPath],
    env: process.env,
    onLine: (name, line) => lines.push(`${name}: ${line}`),
    onEvent: (e) => events.push(e),
    backoffBaseMs: 20,
    backoffMaxMs: 100,
  });
  return { sup, lines, events };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const LONG = `process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => process.exit(0), 50); }); console.log('up'); setInterval(() => {}, 1000);`;
const STUBBORN = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);`;

describe('supervisor', () => {
  it('restarts a child that dies, with backoff, and collects its output by name', async () => {
    const { sup, lines, events } = harness();
    sup.start([
      {
        name: 'crashy',
        args: ['-e', `console.log('hello'); console.error('oops'); process.exit(3)`],
      },
    ]);
    await until(() => (sup.list()[0]?.restarts ?? 0) >= 3);
    const exits = events.filter((e) => e.type === 'exit');
    expect(exits[0]).toMatchObject({ type: 'exit', name: 'crashy', code: 3 });
    expect((exits[0] as { restartInMs?: number }).restartInMs).toBeGreaterThan(0);
    expect(lines).toContain('crashy: hello');
    expect(lines).toContain('crashy: oops');
    await sup.stop(1_000);
    const restarts = sup.list()[0]!.restarts;
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.list()[0]!.restarts).toBe(restarts);
  });

  it('stops children with SIGTERM and SIGKILLs the ones that outlive the grace period', async () => {
    const { sup, lines } = harness();
    sup.start([
      { name: 'polite', args: ['-e', LONG] },
      { name: 'stubborn', args: ['-e', STUBBORN] },
    ]);
    await until(() => lines.includes('polite: up') && lines.includes('stubborn: up'));
    expect(sup.list().map((p) => p.state)).toEqual(['up', 'up']);
    const pids = sup.list().map((p) => p.pid!);
    const t0 = Date.now();
    const { killed } = await sup.stop(500);
    expect(killed).toEqual(['stubborn']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(lines).toContain('polite: draining');
    expect(lines).toContain('stubborn: ignoring SIGTERM');
    expect(sup.list().map((p) => p.state)).toEqual(['stopped', 'stopped']);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    // Idempotent.
    expect(await sup.stop(500)).toEqual({ killed: ['stubborn'] });
  });
});
