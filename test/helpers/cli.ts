/** Run an `ingest` command in this process (no build needed) and capture what it prints. */
import { vi } from 'vitest';
import { createProgram } from '../../src/cli/program.js';

/** `ingest <args…> --pg-url <pgUrl>`; resolves with stdout, rejects as the command fails. */
export async function ingestInProcess(args: string[], pgUrl: string): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await createProgram()
      .exitOverride()
      .parseAsync([...args, '--pg-url', pgUrl], { from: 'user' });
    return out;
  } finally {
    spy.mockRestore();
  }
}
