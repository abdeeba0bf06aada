/** What commands print on stdout: a table for people, JSON with --json for machines. */
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';

// Loaded on first table (synchronously): --help and --json never pay for it.
const require = createRequire(import.meta.url);
let Table: typeof TableType | undefined;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

/**
 * Colour only for a person at a terminal: a pipe or file gets plain text, and
 * a non-empty NO_COLOR turns it off everywhere (https://no-color.org).
 */
export function shouldColour(
  stream: { isTTY?: boolean } = process.stdout,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function renderTable(head: string[], rows: Cell[][], colour = shouldColour()): string {
  Table ??= require('cli-table3') as typeof TableType;
  const table = new Table({
    head,
    // cli-table3 colours regardless of the terminal: empty styles are its off switch.
    style: colour ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] },
    // Compact: no separator line between rows.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows)
    table.push(row.map((c) => (c === null || c === undefined ? '' : String(c))));
  return table.toString();
}

export function printTable(head: string[], rows: Cell[][], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  process.stdout.write(`${renderTable(head, rows)}\n`);
}

/** Print rows as a table, or the raw objects as JSON. */
export function printRows<T>(
  rows: T[],
  json: boolean | undefined,
  columns: Array<[string, (row: T) => Cell]>,
  empty?: string,
): void {
  if (json) return printJson(rows);
  printTable(
    columns.map(([h]) => h),
    rows.map((r) => columns.map(([, f]) => f(r))),
    empty,
  );
}

export function info(line: string): void {
  process.stdout.write(`${line}\n`);
}
