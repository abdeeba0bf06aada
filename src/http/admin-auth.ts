/**
 * Admin endpoints: with INGEST_ADMIN_TOKEN set, a matching Bearer token is
 * required; without it, only loopback callers are answered (DESIGN §2).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IngestError } from '../core/errors.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths match and the compare is constant-time.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function isLoopback(ip: string | undefined): boolean {
  return ip !== undefined && LOOPBACK.test(ip);
}

export function makeAdminGuard(adminToken: string | undefined) {
  return async function adminGuard(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (adminToken) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m || !sameSecret(m[1]!, adminToken)) {
        throw new IngestError('ADMIN_REQUIRED', 'admin token required (Authorization: Bearer ...)');
      }
      return;
    }
    if (!isLoopback(req.socket.remoteAddress)) {
      throw new IngestError(
        'FORBIDDEN',
        'admin endpoints answer loopback callers only (set INGEST_ADMIN_TOKEN)',
      );
    }
  };
}
