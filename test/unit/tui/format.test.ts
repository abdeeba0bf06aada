import { describe, expect, it } from 'vitest';
import {
  fit,
  fmtAge,
  fmtCount,
  fmtMs,
  fmtRate,
  formatHeader,
  formatRow,
  layoutColumns,
  type Column,
} from '../../../src/tui/format.js';
import { QUEUE_COLUMNS } from '../../../src/tui/queue-columns.js';

describe('formatters', () => {
  it('counts', () => {
    expect([0, 950, 1234, 34_567, 1_234_567, 98_000_000, undefined].map(fmtCount)).toEqual([
      '0',
      '950',
      '1.2k',
      '35k',
      '1.2M',
      '98M',
      '-',
    ]);
  });
  it('rates', () => {
    expect([0, 3.456, 120.4, 12_345, undefined, NaN].map(fmtRate)).toEqual([
      '0/s',
      '3.5/s',
      '120/s',
      '12k/s',
      '-',
      '-',
    ]);
  });
  it('latencies and ages', () => {
    expect([0.84, 12.4, 1234, undefined].map(fmtMs)).toEqual(['0.8ms', '12ms', '1.2s', '-']);
    expect([null, 850, 12_000, 185_000, 7_440_000].map(fmtAge)).toEqual([
      '-',
      '850ms',
      '12s',
      '3m05s',
      '2h04m',
    ]);
  });
  it('fits cells to a width', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abc', 5, 'right')).toBe('  abc');
    expect(fit('abcdefgh', 5)).toBe('abcd…');
    expect(fit('abc', 0)).toBe('');
  });
});

describe('table layout', () => {
  it('gives the spare width to the flex column and keeps every line within the width', () => {
    for (const width of [62, 79, 119]) {
      const widths = layoutColumns(QUEUE_COLUMNS, width);
      const header = formatHeader(QUEUE_COLUMNS, widths);
      expect(header.length).toBe(Math.max(width, 62));
      const row = formatRow(QUEUE_COLUMNS, widths, {
        id: 'D0000001',
        state: 'busy',
        ready: 1234,
        unacked: 50,
        total: 1284,
        consumer: 'consumer-host-with-a-very-long-name:12345/0',
        leaseAgeMs: 65_000,
      }).join(' ');
      expect(row.length).toBe(header.length);
      expect(row).toContain('1.2k');
      expect(row).toContain('1m05s');
    }
  });
  it('never goes below the fixed widths', () => {
    const cols: Column<{ a: string }>[] = [
      { header: 'A', width: 3, cell: (r) => r.a },
      { header: 'B', width: 2, flex: true, cell: () => 'x' },
    ];
    expect(layoutColumns(cols, 1)).toEqual([3, 2]);
    expect(layoutColumns(cols, 10)).toEqual([3, 6]);
  });
});
