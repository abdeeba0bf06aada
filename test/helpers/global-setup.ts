/** Fail the whole run early, with one clear line, when a server is down. */
import net from 'node:net';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(2_000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export default async function setup(): Promise<void> {
  const missing: string[] = [];
  for (const [name, port] of [
    ['PostgreSQL', 5432],
    ['Redis', 6379],
    ['RabbitMQ', 5672],
  ] as const) {
    if (!(await reachable(port))) missing.push(`${name} (127.0.0.1:${port})`);
  }
  if (missing.length) {
    throw new Error(`servers down: ${missing.join(', ')}. Run: bash scripts/services.sh`);
  }
}
