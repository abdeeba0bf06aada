/**
 * Parsers for command flags commander hands over as strings. Each failure is a
 * VALIDATION error naming the flag and the value given, so every command says
 * the same thing the same way. Cheap to import: no drivers.
 */
import { parseDuration } from '../core/duration.js';
import { IngestError, errorMessage } from '../core/errors.js';

export interface Range {
  min?: number;
  max?: number;
}

function bounds({ min = 1, max }: Range): string {
  return max === undefined ? `>= ${min}` : `between ${min} and ${max}`;
}

function whole(label: string, raw: string, range: Range): number {
  const n = Number(raw);
  const { min = 1, max } = range;
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || (max !== undefined && n > max))
    throw new IngestError(
      'VALIDATION',
      `${label} must be a whole number ${bounds(range)}, got "${raw}"`,
    );
  return n;
}

/** A whole number within the range (default: >= 1). `name` is the flag without dashes. */
export function wholeNumber(name: string, raw: string, range: Range = {}): number {
  return whole(`--${name}`, raw, range);
}

/** wholeNumber() for a positional argument: `label` names it as the help does ("rule id"). */
export function wholeArgument(label: string, raw: string, range: Range = {}): number {
  return whole(label, raw, range);
}

/** wholeNumber() for an optional flag: undefined stays undefined. */
export function optionalWholeNumber(
  name: string,
  raw: string | undefined,
  range: Range = {},
): number | undefined {
  return raw === undefined ? undefined : wholeNumber(name, raw, range);
}

/** A finite number (integer: a whole one); undefined stays undefined. */
export function optionalNumber(
  name: string,
  raw: string | undefined,
  integer = false,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new IngestError(
      'VALIDATION',
      `--${name} must be ${integer ? 'an integer' : 'a number'}, got "${raw}"`,
    );
  return n;
}

/** A duration ("500ms", "30s", "2m") in milliseconds, optionally within bounds. */
export function durationMs(
  name: string,
  raw: string,
  range: { minMs?: number; maxMs?: number; hint?: string } = {},
): number {
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch (err) {
    throw new IngestError('VALIDATION', `--${name}: ${errorMessage(err)}`);
  }
  if (
    (range.minMs !== undefined && ms < range.minMs) ||
    (range.maxMs !== undefined && ms > range.maxMs)
  )
    throw new IngestError(
      'VALIDATION',
      `--${name} must be ${range.hint ?? 'within bounds'}, got "${raw}"`,
    );
  return ms;
}

/** One of a fixed list of words. */
export function oneOf<T extends string>(name: string, raw: string, values: readonly T[]): T {
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new IngestError(
    'VALIDATION',
    `--${name} must be one of ${values.join(', ')}, got "${raw}"`,
  );
}
