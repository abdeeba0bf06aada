/** Is a TCP port free, and if not, who holds it (for a clear error before anything starts). */
import { execFile } from 'node:child_process';
import net from 'node:net';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Parse `ss -ltnpH` output: 'users:(("node",pid=1234,fd=20))' -> "pid 1234 (node)". */
export function parseSsOwner(output: string): string | undefined {
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(output);
  return m ? `pid ${m[2]} (${m[1]})` : undefined;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 2_000 }, (err, stdout) => resolve(err ? '' : String(stdout)));
  });
}

/** "pid 1234 (node ingest serve-frontend)" when the system tells us, else undefined. */
export async function portOwner(port: number): Promise<string | undefined> {
  const ss = parseSsOwner(await run('ss', ['-ltnpH', `sport = :${port}`]));
  if (!ss) return undefined;
  const pid = /pid (\d+)/.exec(ss)?.[1];
  const cmdline = pid ? (await run('ps', ['-o', 'args=', '-p', pid])).trim() : '';
  return cmdline ? `pid ${pid} (${cmdline.slice(0, 80)})` : ss;
}
