/**
 * The built CLI starts cheaply: registering every command (flags and help)
 * loads commander and the settings only; drivers, servers, the logger and the
 * TUI load when a command runs. Every command's --help works, an unknown flag fails
 * with one clear line, a bad number names its flag.
 * Needs `npm run build` (npm test runs it first).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { INGEST_BIN } from '../../src/loadtest/ingest-process.js';

const run = promisify(execFile);
const PROGRAM = fileURLToPath(new URL('../../dist/cli/program.js', import.meta.url));

/** Packages that only a running command may need (all CommonJS: visible in require.cache). */
const HEAVY = [
  'react',
  'fastify',
  'mongodb',
  'pg',
  'ioredis',
  'amqplib',
  'autocannon',
  'undici',
  'prom-client',
  'cli-table3',
  'pino',
];

const PROBE = `
import { createRequire } from 'node:module';
const { createProgram } = await import(${JSON.stringify(PROGRAM)});
const names = [];
const walk = (cmd, path) => {
  for (const sub of cmd.commands) {
    const name = [...path, sub.name()];
    if (!sub.helpInformation().includes('Usage: ingest ' + name.join(' ')))
      throw new Error('no usage line for ' + name.join(' '));
    names.push(name.join(' '));
    walk(sub, name);
  }
};
walk(createProgram(), []);
const loaded = Object.keys(createRequire(import.meta.url).cache);
const heavy = ${JSON.stringify(HEAVY)}.filter((p) =>
  loaded.some((f) => f.includes('/node_modules/' + p + '/')),
);
process.stdout.write(JSON.stringify({ names, heavy }));
`;

async function ingest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [INGEST_BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('ingest start-up', () => {
  it('registers every command without loading drivers, servers or the TUI', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE]);
    const { names, heavy } = JSON.parse(stdout) as { names: string[]; heavy: string[] };
    expect(names).toEqual(
      expect.arrayContaining([
        'up',
        'dashboard',
        'accounts list',
        'gateways show',
        'queues pause',
        'loadtest frontend',
        'loadtest dispatcher',
        'loadtest pipeline',
        'deadletters requeue',
        'alerts rules add',
      ]),
    );
    expect(heavy).toEqual([]);
  });

  it.each([
    ['--help'],
    ['up', '--help'],
    ['loadtest', 'pipeline', '--help'],
    ['accounts', 'add', '--help'],
  ])('ingest %s ... prints its help and exits 0', async (...args: string[]) => {
    const r = await ingest(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: ingest/);
  });

  it('an unknown flag fails with a clear line and a non-zero exit', async () => {
    const r = await ingest(['accounts', 'list', '--bogus']);
    expect(r.code).not.toBe(0);
    // Usage errors read like every other failure of the CLI: one line.
    expect(r.stderr).toBe("ingest: unknown option '--bogus' (add --help for usage)\n");
  });

  it('a bad number names its flag and the value', async () => {
    const r = await ingest(['loadtest', 'frontend', '--readings', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ingest: --readings must be a whole number >= 1, got "abc"');
    // Refused before any sandbox (database, queues) is made.
    const jit = await ingest(['loadtest', 'pipeline', '--jit-warmup', '-1']);
    expect(jit.code).toBe(1);
    expect(jit.stderr.trim()).toBe('ingest: --jit-warmup must be a whole number >= 0, got "-1"');
  });

  it("a subcommand's help lists the program's global options, not its parent command's", async () => {
    const r = await ingest(['queues', 'pause', '--help']);
    expect(r.code).toBe(0);
    const global = r.stdout.slice(r.stdout.indexOf('Global Options:'));
    expect(global).toMatch(/--log-level/);
    expect(r.stdout).not.toMatch(/--sort|--watch|--filter/);
  });

  it('a bad setting is a usage error too: exit 1, naming the flag', async () => {
    const r = await ingest(['consume', '--once', '--batch', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ingest: --batch: not a whole number: "abc"');
  });
});
