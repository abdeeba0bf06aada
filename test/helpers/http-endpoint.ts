/**
 * A real local HTTP endpoint for notifier tests: it records every request and
 * answers 204, or 500 while a path still has failures set for it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EndpointHit {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RecordingEndpoint {
  /** http://127.0.0.1:<port> */
  base: string;
  hits: EndpointHit[];
  /** Path -> how many more requests answer 500 (Infinity: always). */
  failures: Map<string, number>;
  close(): Promise<void>;
}

export async function startRecordingEndpoint(): Promise<RecordingEndpoint> {
  const hits: EndpointHit[] = [];
  const failures = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      hits.push({ path, headers: req.headers, body });
      const left = failures.get(path) ?? 0;
      if (left > 0) {
        failures.set(path, left - 1);
        res.writeHead(500).end('nope');
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    failures,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
