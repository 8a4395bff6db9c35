/**
 * Bearer-token auth for admin routes: active only when AEGIS_ADMIN_TOKEN is set. Compared in
 * constant time so the token cannot be guessed byte by byte from response timings. Browsers
 * (the dashboard) authenticate with the session cookie issued by `/login` instead.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AegisError } from '@aegis-ipc/protocol';
import { AdminSession } from './admin-session.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `public`: no credentials needed (the login page); `page`: a browser page, so a missing
     * credential redirects to `/login` instead of answering 401.
     */
    adminAuth?: 'public' | 'page';
  }
}

/** Paths that stay open with a token set: liveness/readiness probes and Prometheus scrapes. */
const PUBLIC_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

export function registerAdminAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  const expected = digest(token);
  const sessions = new AdminSession(token);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const mode = request.routeOptions.config.adminAuth;
    if (PUBLIC_PATHS.includes(path) || mode === 'public') return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match === null && sessions.accepts(request)) return;
    if (match === null && mode === 'page') return reply.redirect('/login', 303);
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new AegisError('UNAUTHORIZED', 'missing or invalid bearer token (set Authorization: Bearer <AEGIS_ADMIN_TOKEN>)');
    }
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
