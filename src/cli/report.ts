/**
 * How the load-test commands end: progress lines on stderr (not with --json),
 * the report as a table or JSON on stdout, exit code 1 when the run failed its checks.
 */
import type { Command } from 'commander';
import { printJson } from './output.js';

/** The trailing flags every load test has: --no-raw (when it measures a raw ceiling) and --json. */
export function addReportFlags(cmd: Command, ceiling?: string): Command {
  if (ceiling) cmd.option('--no-raw', `skip the raw ${ceiling} ceiling`);
  return cmd.option('--json', 'print the report as JSON');
}

/** Progress lines for people; none with --json (stdout stays one JSON document). */
export function progressLines(json: boolean | undefined): ((line: string) => void) | undefined {
  return json ? undefined : (line) => process.stderr.write(`… ${line}\n`);
}

export function printReport<R>(
  report: R,
  json: boolean | undefined,
  render: (report: R) => string,
  failed: (report: R) => boolean,
): void {
  if (json) printJson(report);
  else process.stdout.write(`${render(report)}\n`);
  if (failed(report)) process.exitCode = 1;
}
