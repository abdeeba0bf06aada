/** Pure formatting for the terminal screens: numbers, rates, latencies, ages, fixed-width cells. */

/** 950, 1.2k, 34k, 1.2M. */
export function fmtCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a < 1_000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 1 : 0);
  if (a < 10_000) return `${(n / 1_000).toFixed(1)}k`;
  if (a < 1_000_000) return `${Math.round(n / 1_000)}k`;
  if (a < 10_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${Math.round(n / 1_000_000)}M`;
}

/** A per-second rate: "0/s", "3.5/s", "120/s", "12k/s". */
export function fmtRate(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return '-';
  if (perSec === 0) return '0/s';
  if (perSec < 10) return `${perSec.toFixed(1)}/s`;
  return `${fmtCount(Math.round(perSec))}/s`;
}

/** A latency in ms: "-", "0.8ms", "12ms", "1.2s". */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

/** An age: "-", "850ms", "12s", "3m05s", "2h04m". */
export function fmtAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Pad or cut to exactly `width` characters (an ellipsis marks a cut). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/** "12:03:04" in local time. */
export function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

export interface Column<T> {
  header: string;
  width: number;
  align?: 'left' | 'right';
  /** Takes the width left over by the fixed columns (at least `width`). */
  flex?: boolean;
  cell(row: T): string;
}

/** Widths of the columns for a total width (one space between columns). */
export function layoutColumns<T>(columns: readonly Column<T>[], total: number): number[] {
  const fixed = columns.reduce((n, c) => n + c.width, 0) + Math.max(0, columns.length - 1);
  const spare = Math.max(0, total - fixed);
  return columns.map((c) => (c.flex ? c.width + spare : c.width));
}

export function formatRow<T>(
  columns: readonly Column<T>[],
  widths: readonly number[],
  row: T,
): string[] {
  return columns.map((c, i) => fit(c.cell(row), widths[i] ?? c.width, c.align));
}

export function formatHeader<T>(columns: readonly Column<T>[], widths: readonly number[]): string {
  return columns.map((c, i) => fit(c.header, widths[i] ?? c.width, c.align)).join(' ');
}
