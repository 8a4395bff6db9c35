/**
 * Delivery status of exactly-once calls (EO-5): a message's state, the dead letters, replay.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NatsConnection } from '@nats-io/nats-core';
import { Type } from '@aegis-ipc/protocol';
import { listDeadLetters, replayMessage } from '@aegis-ipc/sdk';
import type { MessageStatusService } from '../delivery/message-status-service.js';
import { WireErrorSchema } from './schemas.js';

const MessageIdParam = Type.Object({ message_id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

const MessageStatusSchema = Type.Object(
  {
    message_id: Type.String(),
    service_name: Type.String(),
    method: Type.String(),
    state: Type.Union([Type.Literal('PENDING'), Type.Literal('ACKNOWLEDGED'), Type.Literal('FAILED'), Type.Literal('EXPIRED')]),
    retry_count: Type.Integer(),
    last_error: Type.Union([Type.String(), Type.Null()]),
    trace_id: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
    instance_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    response: Type.Optional(Type.Unknown()),
    dlq_seq: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    replays: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);

const DeadLetterSchema = Type.Object({
  dlq_seq: Type.Integer(),
  message_id: Type.String(),
  service_name: Type.String(),
  method: Type.String(),
  trace_id: Type.Union([Type.String(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  deliveries: Type.Integer(),
  dead_lettered_at: Type.Union([Type.String(), Type.Null()]),
});

export function deliveryRoutes(nc: NatsConnection, statuses: MessageStatusService): FastifyPluginAsync {
  return async (app) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/messages/dlq',
      {
        schema: {
          tags: ['delivery'],
          summary: 'Dead-lettered exactly-once calls, oldest first',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 100 })) }),
          response: { 200: Type.Object({ dead_letters: Type.Array(DeadLetterSchema) }) },
        },
      },
      async (request) => ({
        dead_letters: (await listDeadLetters(nc, request.query.limit ?? 100)).map((d) => ({
          dlq_seq: d.dlq_seq, message_id: d.message_id, service_name: d.service_name, method: d.method, trace_id: d.trace_id,
          last_error: d.last_error, deliveries: d.deliveries, dead_lettered_at: d.dead_lettered_at,
        })),
      }),
    );
    api.get(
      '/messages/:message_id',
      {
        schema: {
          tags: ['delivery'],
          summary: 'State of a message id: PENDING, ACKNOWLEDGED (with the response), FAILED or EXPIRED',
          params: MessageIdParam,
          response: { 200: MessageStatusSchema, 404: WireErrorSchema },
        },
      },
      async (request) => statuses.get(request.params.message_id),
    );
    api.post(
      '/messages/:message_id/replay',
      {
        schema: {
          tags: ['delivery'],
          summary: 'Re-run a FAILED message from its dead letter (state back to PENDING)',
          params: MessageIdParam,
          response: { 200: MessageStatusSchema, 400: WireErrorSchema, 404: WireErrorSchema },
        },
      },
      async (request) => replayMessage(nc, request.params.message_id, await statuses.store()),
    );
  };
}
