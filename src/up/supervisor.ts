/**
 * Runs the components of `ingest up` as child processes: restarts one that
 * dies (exponential backoff, reset after it stayed up a while), hands every
 * output line to a sink with the child's name, and stops them all: SIGTERM,
 * a grace period, then SIGKILL for stragglers. Children get their own process
 * group so a terminal Ctrl-C reaches only `ingest up`, which then drains them
 * in order instead of every process seeing the signal at once: the children
 * marked `stopLast` (the services the others call: the dispatcher, say) get
 * their SIGTERM only once the rest have exited, so consumers can still give
 * their queues back on the way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { backoffDelay } from '../core/lifecycle.js';
import type { ProcessView } from '../tui/components/processes-panel.js';

export interface ChildSpec {
  name: string;
  args: string[];
  /**
   * Stopped after every child without this flag has exited (or the grace period is
   * over), with at least half the grace period (up to 5 s) of its own.
   */
  stopLast?: boolean;
}

export type SupervisorEvent =
  | { type: 'spawn'; name: string; pid: number | undefined }
  | { type: 'exit'; name: string; code: number | null; signal: string | null; restartInMs?: number }
  | { type: 'error'; name: string; message: string };

export interface SupervisorOptions {
  /** The executable and leading arguments: [process.execPath, 'bin/ingest']. */
  command: [string, ...string[]];
  env: NodeJS.ProcessEnv;
  onLine(name: string, line: string, stream: 'stdout' | 'stderr'): void;
  onEvent?(event: SupervisorEvent): void;
  /** A child that stayed up this long is healthy again: its backoff restarts from the bottom. */
  healthyAfterMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface Supervisor {
  start(specs: readonly ChildSpec[]): void;
  list(): ProcessView[];
  /** SIGTERM everything, wait up to graceMs, SIGKILL what is left. Idempotent. */
  stop(graceMs?: number): Promise<{ killed: string[] }>;
  /** SIGKILL everything now (second Ctrl-C, process exit). */
  killNow(): void;
}

interface Slot {
  spec: ChildSpec;
  child: ChildProcess | undefined;
  state: ProcessView['state'];
  restarts: number;
  failures: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const slots: Slot[] = [];
  let stopping: Promise<{ killed: string[] }> | undefined;
  const healthyAfter = opts.healthyAfterMs ?? 30_000;

  function launch(slot: Slot): void {
    const [cmd, ...lead] = opts.command;
    const child = spawn(cmd, [...lead, ...slot.spec.args], {
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    slot.child = child;
    slot.state = 'starting';
    slot.startedAt = Date.now();
    slot.exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: child[stream]! });
      rl.on('line', (line) => opts.onLine(slot.spec.name, line, stream));
    }
    child.once('spawn', () => {
      if (slot.state === 'starting') slot.state = 'up';
      opts.onEvent?.({ type: 'spawn', name: slot.spec.name, pid: child.pid });
    });
    child.on('error', (err: Error) =>
      opts.onEvent?.({ type: 'error', name: slot.spec.name, message: err.message }),
    );
    child.once('exit', (code, signal) => {
      slot.child = undefined;
      if (stopping) {
        slot.state = 'stopped';
        opts.onEvent?.({ type: 'exit', name: slot.spec.name, code, signal });
        return;
      }
      if (Date.now() - slot.startedAt >= healthyAfter) slot.failures = 0;
      const delay = backoffDelay(
        slot.failures,
        opts.backoffBaseMs ?? 500,
        opts.backoffMaxMs ?? 30_000,
      );
      slot.failures += 1;
      slot.restarts += 1;
      slot.state = 'restarting';
      opts.onEvent?.({ type: 'exit', name: slot.spec.name, code, signal, restartInMs: delay });
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        if (!stopping) launch(slot);
      }, delay);
    });
  }

  function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      // The child leads its own group; signal the group so its own children go too.
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }

  return {
    start(specs) {
      for (const spec of specs) {
        const slot: Slot = {
          spec,
          child: undefined,
          state: 'starting',
          restarts: 0,
          failures: 0,
          startedAt: 0,
          timer: undefined,
          exited: Promise.resolve(),
        };
        slots.push(slot);
        launch(slot);
      }
    },
    list() {
      return slots.map((s) => ({
        name: s.spec.name,
        state: s.state,
        pid: s.child?.pid,
        restarts: s.restarts,
      }));
    },
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        const killed: string[] = [];
        /** SIGTERM a wave, wait until `deadline`, SIGKILL what is left of it. */
        const drain = async (wave: Slot[], deadline: number): Promise<void> => {
          for (const slot of wave) {
            if (slot.timer) clearTimeout(slot.timer);
            slot.timer = undefined;
            if (slot.child) {
              slot.state = 'stopping';
              signalGroup(slot.child, 'SIGTERM');
            } else slot.state = 'stopped';
          }
          const exited = Promise.all(wave.map((s) => s.exited));
          let timer: NodeJS.Timeout | undefined;
          const inTime = await Promise.race([
            exited.then(() => true),
            new Promise<boolean>(
              (r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
            ),
          ]);
          clearTimeout(timer);
          if (inTime) return;
          for (const slot of wave) {
            if (slot.child) {
              killed.push(slot.spec.name);
              signalGroup(slot.child, 'SIGKILL');
            }
          }
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
        };
        const deadline = Date.now() + graceMs;
        await drain(
          slots.filter((s) => !s.spec.stopLast),
          deadline,
        );
        // However long the first wave took, the last one gets time to drain too.
        await drain(
          slots.filter((s) => s.spec.stopLast),
          Math.max(deadline, Date.now() + Math.min(graceMs / 2, 5_000)),
        );
        return { killed };
      })();
      return stopping;
    },
    killNow() {
      for (const slot of slots) {
        if (slot.timer) clearTimeout(slot.timer);
        if (slot.child) signalGroup(slot.child, 'SIGKILL');
      }
    },
  };
}
