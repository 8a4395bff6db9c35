/**
 * The built-in dashboard at `/` (issue 7): one static page whose scripts poll the admin API,
 * plus `/login` for browsers when AEGIS_ADMIN_TOKEN is set. Registered as a root plugin of the
 * admin server, so the page is served by every router replica with no extra process.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AegisError, Type } from '@aegis-ipc/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { loadDashboardAssets } from './dashboard-assets.js';
import { loginRoutes } from './login-routes.js';

/** Assets fetched by the pages; the pages themselves are routes of their own. */
const ASSET_NAME = /^[a-z0-9-]+\.(js|css)$/;

// The pages load only their own files and talk only to this origin; no framing (clickjacking).
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export interface DashboardOptions {
  /** AEGIS_ADMIN_TOKEN; when set the page requires a login and shows "Log out". */
  readonly adminToken: string | undefined;
}

export function dashboardPlugin(options: DashboardOptions): FastifyPluginAsync {
  return async (app) => {
    const assets = await loadDashboardAssets();
    const page = (name: string) => {
      const asset = assets.get(name);
      if (asset === undefined) throw new AegisError('INTERNAL', `dashboard asset ${name} is missing`);
      return asset.body;
    };
    const index = page('index.html').replace('{{auth}}', options.adminToken === undefined ? 'off' : 'on');
    const html = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

    app.addHook('onSend', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });

    app.get('/', { schema: { hide: true }, config: { adminAuth: 'page' } }, async (_request, reply) => html(reply, index));

    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/dashboard/:file',
      { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) }, config: { adminAuth: 'public' } },
      async (request, reply) => {
        // Public: the same code for everyone, no data (the login page needs the stylesheet too).
        const asset = ASSET_NAME.test(request.params.file) ? assets.get(request.params.file) : undefined;
        if (asset === undefined) throw new AegisError('NOT_FOUND', `no dashboard asset ${request.params.file}`);
        return reply.type(asset.contentType).header('cache-control', 'no-cache').send(asset.body);
      },
    );

    await app.register(loginRoutes({ adminToken: options.adminToken, loginPage: page('login.html'), html }));
  };
}
