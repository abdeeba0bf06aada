/**
 * Gateway tokens: generated strong, stored only as a SHA-256 hash plus a short
 * hint for masked display, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IngestError } from '../core/errors.js';

/** 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The first four characters: enough to tell two tokens apart on screen, useless to an attacker. */
export function tokenHint(token: string): string {
  return token.slice(0, 4);
}

export function maskToken(hint: string | null | undefined): string {
  return hint ? `${hint}${'*'.repeat(12)}` : '';
}

const TOKEN_RE = /^[\x21-\x7e]{16,256}$/;

export function checkTokenFormat(token: string): void {
  if (!TOKEN_RE.test(token)) {
    throw new IngestError(
      'VALIDATION',
      'a token must be 16 to 256 printable characters without spaces',
    );
  }
}

/** Constant-time comparison of two hex SHA-256 hashes (any length mismatch is simply "no"). */
export function sameHash(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  if (ba.length !== 32 || bb.length !== 32) return false;
  return timingSafeEqual(ba, bb);
}
