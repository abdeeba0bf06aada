import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { createProgram } from '../../../src/cli/program.js';

function find(path: string[]): Command {
  let cmd: Command = createProgram();
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

describe('--publish-timeout help', () => {
  // The same setting bounds the frontend's publishes and the consumer's, notifier's
  // and deadletters' own: its one description must be true in each of their helps.
  it.each([['serve-frontend'], ['consume'], ['notify'], ['deadletters', 'requeue']])(
    'is true for ingest %s',
    (...path: string[]) => {
      const help = find(path).helpInformation().replace(/\s+/g, ' ');
      expect(help).toContain('--publish-timeout');
      expect(help).toContain("wait for the broker's confirm");
      expect(help).not.toMatch(/before the request gets 503/);
    },
  );
});
