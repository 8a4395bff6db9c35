/**
 * Bearer-token auth for admin routes: active only when AEGIS_ADMIN_TOKEN is set. Compared in
 * constant time so the token cannot be guessed byte by byte from response timings.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AegisError } from '@aegis-ipc/protocol';

/** Paths that stay open with a token set: liveness/readiness probes and Prometheus scrapes. */
const PUBLIC_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

export function registerAdminAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  const expected = digest(token);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.includes(path)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new AegisError('UNAUTHORIZED', 'missing or invalid bearer token (set Authorization: Bearer <AEGIS_ADMIN_TOKEN>)');
    }
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
