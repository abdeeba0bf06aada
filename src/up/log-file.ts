/** The combined log of `ingest up`: every child's lines, prefixed with its name and a timestamp. */
import { createWriteStream, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LogFile {
  readonly path: string;
  write(name: string, line: string): void;
  close(): Promise<void>;
}

/** ${tmpdir}/ingest-logs/up-20261123-123045-<pid>.log unless a directory is given. */
export function defaultLogPath(
  dir = path.join(os.tmpdir(), 'ingest-logs'),
  now = new Date(),
): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join(dir, `up-${stamp}-${process.pid}.log`);
}

export function createLogFile(file: string): LogFile {
  mkdirSync(path.dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'a' });
  out.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    path: file,
    write(name, line) {
      if (closing) return;
      out.write(`${new Date().toISOString()} [${name}] ${line}\n`);
    },
    close() {
      closing ??= new Promise<void>((resolve) => out.end(() => resolve()));
      return closing;
    },
  };
}
