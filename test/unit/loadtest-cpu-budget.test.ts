/** The CPU budget's parsing and arithmetic (pure logic; the real /proc is read in the pipeline load test's integration test). */
import { describe, expect, it } from 'vitest';
import {
  GROUPS,
  REST_OF_MACHINE,
  parseMachineStat,
  parseProcStat,
  postgresGroup,
  renderCpuBudget,
  summarizeBudget,
} from '../../src/loadtest/cpu-budget.js';

describe('parseProcStat', () => {
  it('reads utime + stime and the start time, also with spaces and parentheses in the name', () => {
    const fields = ['S', '4321', ...Array.from({ length: 9 }, (_, i) => String(i)), '700', '45'];
    const line = (name: string): string =>
      `1234 (${name}) ${fields.join(' ')} 0 0 20 0 4 0 98765 1000 2000\n`;
    expect(parseProcStat(line('postgres'))).toEqual({
      comm: 'postgres',
      ticks: 745,
      startTicks: 98765,
      ppid: 4321,
    });
    expect(parseProcStat(line('a b) (c'))).toMatchObject({ comm: 'a b) (c', ticks: 745 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('1234 (x) S 1 2')).toBeUndefined();
  });
});

describe('parseMachineStat', () => {
  it('splits the cpu line into busy, idle (with iowait) and steal ticks', () => {
    expect(
      parseMachineStat('cpu  100 5 50 1000 20 3 7 11 0 0\ncpu0 50 2 25 500 10 1 3 5 0 0\n'),
    ).toEqual({ busy: 165, idle: 1020, steal: 11 });
  });

  it('refuses anything else', () => {
    expect(parseMachineStat('cpu0 1 2 3 4 5 6 7 8')).toBeUndefined();
    expect(parseMachineStat('cpu 1 2 3')).toBeUndefined();
  });
});

describe('postgresGroup', () => {
  const ours = { backendType: 'client backend', database: 'run_db', ourDatabase: 'run_db' };
  it('tells the write path, the registry and other sessions of the run apart by application name', () => {
    expect(postgresGroup({ ...ours, application: 'ingest-consume' })).toBe(GROUPS.writes);
    expect(postgresGroup({ ...ours, application: 'ingest-registry' })).toBe(GROUPS.registry);
    expect(postgresGroup({ ...ours, application: 'ingest-loadtest' })).toBe(GROUPS.otherSessions);
  });

  it("leaves out other databases' work, and counts the server's own processes as background", () => {
    // Another database's autovacuum or parallel worker is someone else's load.
    expect(
      postgresGroup({
        ...ours,
        backendType: 'autovacuum worker',
        database: 'other',
        application: '',
      }),
    ).toBeUndefined();
    expect(
      postgresGroup({ ...ours, backendType: 'parallel worker', application: 'ingest-consume' }),
    ).toBe(GROUPS.writes);
    expect(
      postgresGroup({ ...ours, database: 'someone_else', application: 'ingest-consume' }),
    ).toBeUndefined();
    expect(
      postgresGroup({
        backendType: 'walwriter',
        application: '',
        database: null,
        ourDatabase: 'run_db',
      }),
    ).toBe(GROUPS.background);
  });
});

describe('summarizeBudget', () => {
  const machine = {
    start: { busy: 1_000, idle: 5_000, steal: 0 },
    end: { busy: 1_500, idle: 5_100, steal: 4 },
  };

  it('adds up the groups in seconds and puts what they miss in the rest of the machine', () => {
    const b = summarizeBudget({
      seconds: 3,
      cores: 2,
      machine,
      selfSeconds: 1.5,
      tracked: [
        { group: GROUPS.writes, first: 100, last: 250 },
        { group: GROUPS.writes, first: 0, last: 50 },
        { group: GROUPS.rabbitmq, first: 10, last: 90 },
      ],
    });
    expect(b).toMatchObject({ seconds: 3, cores: 2, busy: 5, idle: 1, steal: 0.04 });
    expect(b.groups).toEqual([
      { name: GROUPS.writes, seconds: 2 },
      { name: GROUPS.self, seconds: 1.5 },
      { name: GROUPS.rabbitmq, seconds: 0.8 },
      { name: REST_OF_MACHINE, seconds: 0.7 },
    ]);
  });

  it('never reports a negative rest when the samples overshoot the machine counters', () => {
    const b = summarizeBudget({
      seconds: 1,
      cores: 2,
      machine,
      selfSeconds: 4,
      tracked: [{ group: GROUPS.writes, first: 0, last: 200 }],
    });
    expect(b.groups.at(-1)).toEqual({ name: REST_OF_MACHINE, seconds: 0 });
  });

  it("renders the window, each group, and the other processes' cost per CPU-s of the write path", () => {
    const lines = renderCpuBudget(
      summarizeBudget({
        seconds: 3,
        cores: 2,
        machine,
        selfSeconds: 1.5,
        tracked: [
          { group: GROUPS.writes, first: 0, last: 200 },
          { group: GROUPS.rabbitmq, first: 0, last: 100 },
        ],
      }),
    );
    expect(lines[0]).toBe(
      '2 cores × 3 s = 6.00 CPU-s: busy 5.00, idle 1.00, stolen by the host 0.04',
    );
    expect(lines).toContain(`  2.00  ${GROUPS.writes}`);
    expect(lines).toContain(`  0.50  ${REST_OF_MACHINE}`);
    // (1.5 + 1.0) / 2.0, the rest of the machine left out
    expect(lines.at(-1)).toBe(
      "the pipeline's other processes took 1.25 CPU-s per CPU-s of the write path",
    );
  });
});
