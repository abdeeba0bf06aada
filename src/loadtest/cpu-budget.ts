/**
 * Where the machine's CPU went while a load test ran: this process, the
 * PostgreSQL sessions of the sandbox by application name (the consumers' write
 * path apart from the registry), PostgreSQL's own background processes,
 * RabbitMQ and Redis, the rest of the machine, and idle. Read from Linux
 * `/proc` (the servers run on this machine in a load test), sampled every
 * 250 ms so that sessions which end during the run still count. Elsewhere
 * (no `/proc`, or the servers not local) the groups that cannot be seen are
 * left out, and without `/proc/stat` there is no budget at all.
 *
 * It answers the question a ratio against a ceiling raises: the ceiling gives
 * the write path the machine to itself; in the run, everything else shares it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type pg from 'pg';

/** Linux reports process and machine CPU in USER_HZ ticks, 100 a second on every mainstream build. */
const TICKS_PER_SECOND = 100;
const SAMPLE_MS = 250;
const SESSIONS_EVERY_MS = 1_000;

export const GROUPS = {
  self: 'this process (load generator, frontend, dispatcher, maintainer, consumers)',
  writes: 'PostgreSQL: consumer writes (the write path)',
  registry: 'PostgreSQL: queue registry',
  otherSessions: 'PostgreSQL: other sessions of the run',
  background: 'PostgreSQL: background (WAL writer, checkpointer, autovacuum)',
  rabbitmq: 'RabbitMQ',
  redis: 'Redis',
} as const;

/** Busy time no group accounts for: the kernel's own work and any other process. */
export const REST_OF_MACHINE = 'rest of the machine (kernel, other processes)';

export interface CpuBudget {
  /** Wall-clock length of the window. */
  seconds: number;
  cores: number;
  /** CPU-seconds the machine spent busy (all processes and the kernel), idle, and stolen by the host. */
  busy: number;
  idle: number;
  steal: number;
  /** CPU-seconds per group, most first; `rest of the machine` is busy minus the groups. */
  groups: Array<{ name: string; seconds: number }>;
}

export interface ProcStat {
  comm: string;
  /** utime + stime, in ticks. */
  ticks: number;
  /** When the process started, in ticks since boot. */
  startTicks: number;
  /** The parent process id. */
  ppid: number;
}

/** One `/proc/<pid>/stat` line (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // Fields after the name, starting at field 3 (state): utime is field 14, stime 15, starttime 22.
  const rest = text.slice(close + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const start = Number(rest[19]);
  const ppid = Number(rest[1]);
  if (![utime, stime, start, ppid].every(Number.isFinite)) return undefined;
  return { comm: text.slice(open + 1, close), ticks: utime + stime, startTicks: start, ppid };
}

export interface MachineTicks {
  busy: number;
  idle: number;
  steal: number;
}

/** The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq steal (guest is inside user). */
export function parseMachineStat(text: string): MachineTicks | undefined {
  const line = text.split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 9) return undefined;
  const n = f.slice(1, 9).map(Number);
  if (!n.every(Number.isFinite)) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = n as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** Which group a PostgreSQL process belongs to; undefined: another database's session (not ours). */
export function postgresGroup(s: {
  backendType: string;
  application: string;
  database: string | null;
  ourDatabase: string;
}): string | undefined {
  // Another database's work (its sessions, its autovacuum, its parallel workers) is not ours.
  if (s.database !== null && s.database !== s.ourDatabase) return undefined;
  if (s.backendType !== 'client backend' && s.backendType !== 'parallel worker')
    return GROUPS.background;
  if (s.application === 'ingest-consume') return GROUPS.writes;
  if (s.application === 'ingest-registry') return GROUPS.registry;
  return GROUPS.otherSessions;
}

interface Tracked {
  group: string;
  pid: number;
  startTicks: number;
  /** Ticks at the window's start (0 for a process born inside it). */
  first: number;
  last: number;
  /** `/proc/<pid>/stat`, kept open while the process lives (undefined once it is gone). */
  fd?: number | undefined;
}

/** CPU-seconds per group from the tracked processes; busy minus their sum is the rest of the machine. */
export function summarizeBudget(input: {
  seconds: number;
  cores: number;
  machine: { start: MachineTicks; end: MachineTicks };
  selfSeconds: number;
  tracked: Iterable<{ group: string; first: number; last: number }>;
}): CpuBudget {
  const sec = (ticks: number): number => Math.max(0, ticks) / TICKS_PER_SECOND;
  const per = new Map<string, number>([[GROUPS.self, input.selfSeconds]]);
  for (const t of input.tracked) per.set(t.group, (per.get(t.group) ?? 0) + sec(t.last - t.first));
  const busy = sec(input.machine.end.busy - input.machine.start.busy);
  const counted = [...per.values()].reduce((a, b) => a + b, 0);
  // Every group seen stays, also at 0: it says the processes were found and measured.
  const groups = [...per].map(([name, seconds]) => ({ name, seconds: round2(seconds) }));
  groups.sort((a, b) => b.seconds - a.seconds);
  groups.push({
    name: 'rest of the machine (kernel, other processes)',
    seconds: round2(Math.max(0, busy - counted)),
  });
  return {
    seconds: round2(input.seconds),
    cores: input.cores,
    busy: round2(busy),
    idle: round2(sec(input.machine.end.idle - input.machine.start.idle)),
    steal: round2(sec(input.machine.end.steal - input.machine.start.steal)),
    groups,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A process's `/proc/<pid>/stat`, opened once and re-read in place at every sample: one
 * pread instead of open, fstat, read and close through the thread pool (about 25 µs against
 * 200 µs of this process's CPU here, at some 30 processes 4 times a second). The descriptor
 * stays bound to the process it was opened for (a reused pid cannot be misread), and reading
 * it fails once that process is gone.
 */
function openStat(pid: number): number | undefined {
  try {
    return openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return undefined;
  }
}

const statBuffer = Buffer.alloc(1024);

/** The process's stat; 'gone' once it has exited; undefined when this read failed. */
function readStat(fd: number): ProcStat | 'gone' | undefined {
  try {
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return n > 0 ? parseProcStat(statBuffer.toString('utf8', 0, n)) : undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return code === 'ESRCH' || code === 'ENOENT' ? 'gone' : undefined;
  }
}

function closeStat(t: Tracked): void {
  if (t.fd === undefined) return;
  try {
    closeSync(t.fd);
  } catch {
    // already closed
  }
  t.fd = undefined;
}

/** Pids of processes whose command name is one of `names`. */
async function findProcesses(
  names: ReadonlySet<string>,
): Promise<Array<{ pid: number; comm: string }>> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const found: Array<{ pid: number; comm: string }> = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const comm = (await readText(`/proc/${e}/comm`))?.trim();
    if (comm !== undefined && names.has(comm)) found.push({ pid: Number(e), comm });
  }
  return found;
}

export interface CpuBudgetMeter {
  /** Ends the window: one last sample, then the budget (undefined without `/proc/stat`). */
  stop(): Promise<CpuBudget | undefined>;
}

/**
 * Start measuring now. `pool` reaches the run's PostgreSQL (its sessions are told
 * apart by application name); a server that is not on this machine has no
 * processes here, and a pid that is not `postgres` is never counted as one.
 */
export async function startCpuBudget(opts: { pool: pg.Pool }): Promise<CpuBudgetMeter> {
  const machineAtStart = parseMachineStat((await readText('/proc/stat')) ?? '');
  const uptime = Number(((await readText('/proc/uptime')) ?? '').split(' ')[0]);
  const startedAt = performance.now();
  const selfAtStart = process.cpuUsage();
  const none: CpuBudgetMeter = { stop: () => Promise.resolve(undefined) };
  if (!machineAtStart) return none;
  const windowStartTicks = Number.isFinite(uptime) ? uptime * TICKS_PER_SECOND : Infinity;
  const tracked = new Map<string, Tracked>();
  /** The latest process tracked under each pid. */
  const byPid = new Map<number, Tracked>();
  const me = (
    await opts.pool.query<{ db: string; pid: number }>(
      'SELECT current_database() AS db, pg_backend_pid() AS pid',
    )
  ).rows[0]!;
  const database = me.db;
  // Our own session's process is a child of the server's postmaster when the server runs
  // here: only that postmaster's children are counted. A remote server's pids mean nothing
  // on this machine, whatever process happens to carry them.
  const ownFd = openStat(me.pid);
  const ownStat = ownFd === undefined ? undefined : readStat(ownFd);
  const ownBackend = ownStat === 'gone' ? undefined : ownStat;
  if (ownFd !== undefined) closeSync(ownFd);
  const postmaster = ownBackend?.comm === 'postgres' ? ownBackend.ppid : undefined;

  function track(
    pid: number,
    group: string,
    comm: string,
    atStart: boolean,
    parent?: number,
  ): void {
    // Tracked and still alive: its pid cannot have been reused meanwhile.
    if (byPid.get(pid)?.fd !== undefined) return;
    const fd = openStat(pid);
    if (fd === undefined) return;
    const read = readStat(fd);
    const s = read === 'gone' ? undefined : read;
    const wanted =
      s !== undefined &&
      s.comm === comm &&
      (parent === undefined || s.ppid === parent) &&
      !tracked.has(`${pid}:${s.startTicks}`);
    if (!wanted) {
      closeSync(fd);
      return;
    }
    // Born inside the window: all of its CPU is the run's. Otherwise count from now.
    const bornInside = !atStart && s.startTicks >= windowStartTicks;
    const t: Tracked = {
      group,
      pid,
      startTicks: s.startTicks,
      first: bornInside ? 0 : s.ticks,
      last: s.ticks,
      fd,
    };
    tracked.set(`${pid}:${s.startTicks}`, t);
    byPid.set(pid, t);
  }

  async function discoverSessions(atStart: boolean): Promise<void> {
    if (postmaster === undefined) return;
    const r = await opts.pool.query<{
      pid: number;
      application_name: string | null;
      backend_type: string | null;
      datname: string | null;
    }>('SELECT pid, application_name, backend_type, datname FROM pg_stat_activity');
    for (const row of r.rows) {
      const group = postgresGroup({
        backendType: row.backend_type ?? '',
        application: row.application_name ?? '',
        database: row.datname,
        ourDatabase: database,
      });
      if (group) track(row.pid, group, 'postgres', atStart, postmaster);
    }
  }

  function sample(): void {
    for (const t of tracked.values()) {
      if (t.fd === undefined) continue;
      const s = readStat(t.fd);
      // Gone: its last sample stands. A read that failed otherwise is tried again next time.
      if (s === 'gone') closeStat(t);
      else if (s && s.startTicks === t.startTicks) t.last = s.ticks;
    }
  }

  await discoverSessions(true).catch(() => undefined);
  for (const p of await findProcesses(new Set(['beam.smp', 'redis-server'])))
    track(p.pid, p.comm === 'beam.smp' ? GROUPS.rabbitmq : GROUPS.redis, p.comm, true);

  let lastDiscovery = performance.now();
  let busy: Promise<void> = Promise.resolve();
  let sampling = false;
  const timer = setInterval(() => {
    // A sample slower than the interval: skip a tick rather than queue them up.
    if (sampling) return;
    sampling = true;
    busy = busy.then(async () => {
      if (performance.now() - lastDiscovery >= SESSIONS_EVERY_MS) {
        lastDiscovery = performance.now();
        await discoverSessions(false).catch(() => undefined);
      }
      sample();
      sampling = false;
    });
  }, SAMPLE_MS);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await busy;
      await discoverSessions(false).catch(() => undefined);
      sample();
      for (const t of tracked.values()) closeStat(t);
      const machineAtEnd = parseMachineStat((await readText('/proc/stat')) ?? '');
      const self = process.cpuUsage(selfAtStart);
      if (!machineAtEnd) return undefined;
      return summarizeBudget({
        seconds: (performance.now() - startedAt) / 1000,
        cores: cpus().length,
        machine: { start: machineAtStart, end: machineAtEnd },
        selfSeconds: (self.user + self.system) / 1e6,
        tracked: tracked.values(),
      });
    },
  };
}

/**
 * The report's lines: the window, each group, and what the pipeline's other
 * processes cost per CPU-second of the write path (the rest of the machine,
 * which holds the kernel's share and anything else running, apart).
 */
export function renderCpuBudget(b: CpuBudget): string[] {
  const writes = b.groups.find((g) => g.name === GROUPS.writes)?.seconds ?? 0;
  const others = b.groups
    .filter((g) => g.name !== GROUPS.writes && g.name !== REST_OF_MACHINE)
    .reduce((a, g) => a + g.seconds, 0);
  const head = `${b.cores} cores × ${b.seconds} s = ${(b.cores * b.seconds).toFixed(2)} CPU-s: busy ${b.busy.toFixed(2)}, idle ${b.idle.toFixed(2)}${b.steal > 0 ? `, stolen by the host ${b.steal.toFixed(2)}` : ''}`;
  return [
    head,
    ...b.groups.map((g) => `${g.seconds.toFixed(2).padStart(6)}  ${g.name}`),
    ...(writes > 0
      ? [
          `the pipeline's other processes took ${(others / writes).toFixed(2)} CPU-s per CPU-s of the write path`,
        ]
      : []),
  ];
}
