/**
 * `GET /api/v1/admin/outbox/stats`: the transactional outbox's backlog (pending, sent, failed,
 * oldest pending age), mounted only when the router knows the outbox database (DATABASE_URL).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AegisError, Type } from '@aegis-ipc/protocol';
import type { OutboxStatsSource } from './outbox-stats-source.js';
import { WireErrorSchema } from './schemas.js';

const OutboxStats = Type.Object({
  pending: Type.Integer({ description: 'Rows waiting for the relay.' }),
  sent: Type.Integer(),
  failed: Type.Integer({ description: 'Rows given up on; requeue with `aegis outbox replay`.' }),
  oldest_pending_age_seconds: Type.Number({ description: '0 when nothing is pending.' }),
});

export function outboxRoutes(source: OutboxStatsSource): FastifyPluginAsync {
  return async (app) => {
    // The source lives as long as the HTTP server that is its only reader.
    app.addHook('onClose', () => source.close());
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/outbox/stats',
      { schema: { tags: ['outbox'], summary: 'Outbox backlog, as `aegis outbox stats`', response: { 200: OutboxStats, 503: WireErrorSchema } } },
      async (request) => {
        try {
          return await source.read();
        } catch (err) {
          // Typically the tables are missing (no writer has migrated yet) or PostgreSQL is down;
          // the driver's message stays in the log, not in the HTTP answer.
          request.log.warn({ err }, 'cannot read the outbox backlog');
          throw new AegisError('STORAGE_FAILURE', 'cannot read the outbox backlog from DATABASE_URL (see the router log)', { cause: err });
        }
      },
    );
  };
}
