import { describe, expect, it } from 'vitest';
import {
  durationMs,
  oneOf,
  optionalNumber,
  optionalWholeNumber,
  wholeArgument,
  wholeNumber,
} from '../../../src/cli/flags.js';

describe('flag parsers', () => {
  it('wholeNumber accepts whole numbers within the range', () => {
    expect(wholeNumber('readings', '3000')).toBe(3000);
    expect(wholeNumber('ceiling', '0', { min: 0 })).toBe(0);
    expect(wholeNumber('limit', '100000', { max: 100_000 })).toBe(100_000);
  });

  it.each([
    ['abc', {}, '--n must be a whole number >= 1, got "abc"'],
    ['', {}, '--n must be a whole number >= 1, got ""'],
    ['1.5', {}, '--n must be a whole number >= 1, got "1.5"'],
    ['0', {}, '--n must be a whole number >= 1, got "0"'],
    ['-1', { min: 0 }, '--n must be a whole number >= 0, got "-1"'],
    ['100001', { max: 100_000 }, '--n must be a whole number between 1 and 100000, got "100001"'],
  ])('wholeNumber rejects %j (%j)', (raw, range, message) => {
    expect(() => wholeNumber('n', raw, range)).toThrow(message);
    try {
      wholeNumber('n', raw, range);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('VALIDATION');
    }
  });

  it('wholeArgument names a positional argument, not a flag', () => {
    expect(wholeArgument('rule id', '12')).toBe(12);
    expect(() => wholeArgument('rule id', 'abc')).toThrow(
      /^rule id must be a whole number >= 1, got "abc"$/,
    );
    expect(() => wholeArgument('rule id', '1.5')).toThrow('rule id must be a whole number');
  });

  it('optional parsers leave an absent flag undefined', () => {
    expect(optionalWholeNumber('workers', undefined)).toBeUndefined();
    expect(optionalWholeNumber('workers', '2')).toBe(2);
    expect(optionalNumber('above', undefined)).toBeUndefined();
    expect(optionalNumber('above', '1.5')).toBe(1.5);
    expect(optionalNumber('param', '-3', true)).toBe(-3);
    expect(() => optionalNumber('param', '1.5', true)).toThrow('--param must be an integer');
    expect(() => optionalNumber('above', 'x')).toThrow('--above must be a number, got "x"');
  });

  it('durationMs parses durations and names the flag when it cannot', () => {
    expect(durationMs('grace', '24h')).toBe(86_400_000);
    expect(durationMs('interval', '250ms', { minMs: 100 })).toBe(250);
    expect(() => durationMs('grace', 'soon')).toThrow(/^--grace: not a duration: "soon"/);
    expect(() => durationMs('interval', '10ms', { minMs: 100, hint: 'at least 100ms' })).toThrow(
      '--interval must be at least 100ms, got "10ms"',
    );
  });

  it('oneOf accepts only the listed words', () => {
    expect(oneOf('kind', 'alerts', ['readings', 'alerts', 'all'])).toBe('alerts');
    expect(() => oneOf('kind', 'mail', ['readings', 'alerts'])).toThrow(
      '--kind must be one of readings, alerts, got "mail"',
    );
  });
});
