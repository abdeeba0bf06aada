/**
 * Load tests drive the real `ingest` commands as child processes, exactly as
 * an operator would, so they measure what ships (and keep the load generator
 * and the server on separate processes: on 2 cores that matters).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../core/errors.js';

export const INGEST_BIN = fileURLToPath(new URL('../../bin/ingest', import.meta.url));

/** Run an ingest command to completion; resolves with stdout, rejects with stderr. */
export function runIngest(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [INGEST_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `ingest ${args.join(' ')} failed (${signal ?? code}): ${err.trim() || out.trim()}`,
          ),
        );
    });
  });
}

export interface IngestDaemon {
  child: ChildProcess;
  /** Output so far (for error messages). */
  output(): string;
  stop(timeoutMs?: number): Promise<void>;
}

/** Start a long-running ingest command; stop() sends SIGTERM, then SIGKILL. */
export function startIngest(args: string[], env: NodeJS.ProcessEnv): IngestDaemon {
  const child = spawn(process.execPath, [INGEST_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  const keep = (d: Buffer): void => {
    buf = (buf + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => buf,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Poll url until it answers 2xx, the process dies, or the time is up. */
export async function waitForHttp(
  url: string,
  daemon: IngestDaemon | undefined,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (daemon && daemon.child.exitCode !== null) {
      throw new Error(
        `process exited (${daemon.child.exitCode}) before ${url} answered:\n${daemon.output()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = errorMessage(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${url} did not become ready within ${timeoutMs} ms (${last})${daemon ? `:\n${daemon.output()}` : ''}`,
  );
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
