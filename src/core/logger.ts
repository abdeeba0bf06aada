/**
 * JSON logs (pino) to stderr, so stdout stays for a command's own output
 * (tables, JSON). Pretty, human-readable lines when stderr is a TTY.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  name?: string;
}

// Tokens and secrets never reach a log line, whatever field they hide in.
const REDACT = [
  'token',
  'secret',
  'password',
  '*.token',
  '*.secret',
  '*.password',
  'req.headers["x-dexcell-source-token"]',
  'req.headers.authorization',
  'headers["x-dexcell-source-token"]',
  'headers.authorization',
];

export function createLogger(opts: LoggerOptions): Logger {
  const pretty =
    opts.format === 'pretty' || (opts.format === 'auto' && process.stderr.isTTY === true);
  const base = {
    level: opts.level,
    name: opts.name ?? 'ingest',
    redact: { paths: REDACT, censor: '***' },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: {
          destination: 2,
          colorize: true,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname',
        },
      },
    });
  }
  return pino(base, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (tests, pure functions). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
