/**
 * `GET/POST /login` and `POST /logout`: exchange the admin token, typed once into a form, for the
 * session cookie of admin-session.ts. A form POST (not `?token=` in a link) keeps the token out of
 * URLs, browser history, proxy logs and Referer headers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AdminSession, sessionCookie } from '../admin-api/admin-session.js';

export interface LoginRoutesOptions {
  readonly adminToken: string | undefined;
  readonly loginPage: string;
  readonly html: (reply: FastifyReply, body: string) => FastifyReply;
}

/** Form bodies are tiny; anything bigger is not a login. */
const MAX_BODY = 4096;

export function loginRoutes(options: LoginRoutesOptions): FastifyPluginAsync {
  const { adminToken, loginPage, html } = options;
  const sessions = adminToken === undefined ? undefined : new AdminSession(adminToken);
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  const page = (error?: string) => loginPage.replace('<!--error-->', error === undefined ? '' : `<p class="error" role="alert">${error}</p>`);
  const secure = (request: FastifyRequest) => request.protocol === 'https';

  return async (app) => {
    // Scoped to this plugin: the rest of the admin API keeps accepting JSON only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_BODY }, (_request, body, done) => {
      done(null, new URLSearchParams(body as string));
    });

    app.get('/login', { schema: { hide: true }, config: { adminAuth: 'public' } }, async (request, reply) => {
      if (sessions === undefined || sessions.accepts(request)) return reply.redirect('/', 303);
      return html(reply, page());
    });

    app.post('/login', { schema: { hide: true }, config: { adminAuth: 'public' } }, async (request, reply) => {
      if (sessions === undefined || expected === undefined) return reply.redirect('/', 303);
      const token = request.body instanceof URLSearchParams ? (request.body.get('token') ?? '') : '';
      // Digests have equal length whatever was typed, so the comparison is constant time.
      if (!timingSafeEqual(digest(token), expected)) {
        request.log.warn({ event: 'dashboard_login_failed', ip: request.ip }, 'dashboard login with a wrong admin token');
        return html(reply.status(401), page('Wrong token.'));
      }
      const { value, maxAgeSeconds } = sessions.issue();
      return reply.header('set-cookie', sessionCookie(value, maxAgeSeconds, secure(request))).redirect('/', 303);
    });

    // Public: dropping one's own cookie needs no proof, and a forged logout only costs a login.
    app.post('/logout', { schema: { hide: true }, config: { adminAuth: 'public' } }, async (request, reply) => {
      return reply.header('set-cookie', sessionCookie('', 0, secure(request))).redirect(adminToken === undefined ? '/' : '/login', 303);
    });
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
