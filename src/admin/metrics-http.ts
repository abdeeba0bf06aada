/** A small keep-alive GET for /metrics, /ready and /health scrapes (no global fetch: see DESIGN §4). */
import http from 'node:http';
import { errorMessage } from '../core/errors.js';

export interface HttpText {
  status: number;
  body: string;
}

export interface Scraper {
  get(url: string): Promise<HttpText>;
  close(): void;
}

export function createScraper(opts: { timeoutMs?: number } = {}): Scraper {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const timeoutMs = opts.timeoutMs ?? 2_000;
  let closed = false;
  return {
    get(url) {
      if (closed) return Promise.reject(new Error('scraper closed'));
      return new Promise<HttpText>((resolve, reject) => {
        let req: http.ClientRequest;
        try {
          req = http.get(url, { agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          });
        } catch (err) {
          reject(new Error(`bad URL ${url}: ${errorMessage(err)}`));
          return;
        }
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      agent.destroy();
    },
  };
}

/** "connect ECONNREFUSED 127.0.0.1:8080" -> "connection refused" and similar, for a one-line DOWN. */
export function shortReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'EHOSTUNREACH') return 'host unreachable';
  return errorMessage(err);
}
