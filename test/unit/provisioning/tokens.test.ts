import { expect, it } from 'vitest';
import {
  checkTokenFormat,
  generateToken,
  hashToken,
  maskToken,
  sameHash,
  tokenHint,
} from '../../../src/provisioning/tokens.js';
import { bucketOf } from '../../../src/adapters/redis/gateway-stats.js';

it('generates 32-byte base64url tokens, all different', () => {
  const a = generateToken();
  expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from(a, 'base64url')).toHaveLength(32);
  expect(generateToken()).not.toBe(a);
});

it('hashes, hints and masks without revealing the token', () => {
  const t = 'secret-token-0123456789';
  expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
  expect(sameHash(hashToken(t), hashToken(t))).toBe(true);
  expect(sameHash(hashToken(t), hashToken(`${t}x`))).toBe(false);
  expect(sameHash(hashToken(t), 'abc')).toBe(false);
  expect(tokenHint(t)).toBe('secr');
  expect(maskToken('secr')).toBe('secr************');
});

it('refuses weak or odd tokens', () => {
  expect(() => checkTokenFormat('short')).toThrow(/16 to 256/);
  expect(() => checkTokenFormat('has a space in it ok')).toThrow();
  expect(() => checkTokenFormat('x'.repeat(16))).not.toThrow();
});

it('puts stats into UTC hour/day/Monday-week/month buckets', () => {
  const t = Date.parse('2024-03-04T10:30:00Z'); // a Monday
  expect(bucketOf('hour', t) - bucketOf('hour', Date.parse('2024-03-04T09:59:59Z'))).toBe(1);
  expect(bucketOf('day', t)).toBe(bucketOf('day', Date.parse('2024-03-04T00:00:00Z')));
  expect(bucketOf('week', t)).toBe(bucketOf('week', Date.parse('2024-03-10T23:59:59Z')));
  expect(bucketOf('week', t) - bucketOf('week', Date.parse('2024-03-03T23:59:59Z'))).toBe(1);
  expect(bucketOf('month', t) - bucketOf('month', Date.parse('2024-02-29T23:00:00Z'))).toBe(1);
  expect(
    bucketOf('month', Date.parse('2024-01-01T00:00:00Z')) -
      bucketOf('month', Date.parse('2023-12-31T23:00:00Z')),
  ).toBe(1);
});
