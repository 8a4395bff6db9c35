/**
 * The reference command API (SPEC OB-1): `POST /genesis/sessions/{session_id}/commands` routes
 * `{ command_type, payload }` to its handler through the transactional outbox, and
 * `GET /genesis/sessions/{session_id}/events` streams the session's progress over SSE.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { AegisError, Type, compileSchema } from '@aegis-ipc/protocol';
import { listAggregateEvents, type Database, type DomainEvent, type OutboxWriter } from '@aegis-ipc/outbox';
import { AGGREGATE_TYPE, commandFor } from './genesis-commands.js';
import { assertSessionId, toHttpError } from './http-errors.js';
import type { Principal } from './jwt-auth.js';
import type { ProgressHub } from './progress-hub.js';

export interface GenesisAppDeps {
  readonly db: Database;
  readonly writer: OutboxWriter;
  readonly hub: ProgressHub;
  readonly verify: (authorization: string | undefined) => Promise<Principal>;
  readonly logger?: boolean;
}

const commandRequest = compileSchema(
  Type.Object(
    { command_type: Type.String({ minLength: 1, maxLength: 100 }), payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
    { additionalProperties: false },
  ),
);

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function buildGenesisApp(deps: GenesisAppDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, genReqId: () => randomUUID() });

  app.setErrorHandler((err, _req, reply) => {
    // fastify's own errors (bad JSON, wrong content type) are client errors
    const statusCode = (err as { statusCode?: unknown }).statusCode;
    const mapped =
      !(err instanceof AegisError) && typeof statusCode === 'number' && statusCode < 500
        ? { status: statusCode, body: { error_code: 'VALIDATION_FAILED', message: (err as Error).message } }
        : toHttpError(err);
    void reply.status(mapped.status).send(mapped.body);
  });

  app.post<{ Params: { session_id: string } }>('/genesis/sessions/:session_id/commands', async (req, reply) => {
    const principal = await deps.verify(req.headers.authorization);
    assertSessionId(req.params.session_id);
    const body = commandRequest.parse(req.body ?? {}, 'command request');
    const spec = commandFor(body.command_type, body.payload ?? {});
    const traceparent = header(req, 'traceparent');
    const result = await deps.writer.submitCommand(
      {
        aggregateType: AGGREGATE_TYPE,
        sessionId: req.params.session_id,
        commandType: body.command_type,
        payload: body.payload ?? {},
        idempotencyKey: header(req, 'idempotency-key'),
        correlationId: header(req, 'x-correlation-id') ?? req.id,
        causationId: req.id,
        trace: traceparent !== undefined && TRACEPARENT.test(traceparent) ? { traceparent } : undefined,
        metadata: { user_id: principal.userId, source_service: 'genesis-api', request_id: req.id },
      },
      spec.handler,
    );
    const completed = result.status === 'COMPLETED';
    return reply.status(completed ? 200 : 202).send({
      command_id: result.commandId,
      status: result.status,
      message: completed ? 'Command completed' : 'Command accepted',
      event_ids: result.events.map((e) => e.event_id),
      result: result.result,
      replayed: result.replayed,
    });
  });

  app.get<{ Params: { session_id: string } }>('/genesis/sessions/:session_id/events', async (req, reply) => {
    await deps.verify(req.headers.authorization);
    const sessionId = req.params.session_id;
    assertSessionId(sessionId);
    const lastEventId = Number(header(req, 'last-event-id') ?? 0);
    let sent = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : 0;
    const write = (event: DomainEvent): void => {
      if (event.sequence <= sent) return; // already sent from history (or a redelivery)
      sent = event.sequence;
      reply.raw.write(`id: ${event.sequence}\nevent: ${event.event_type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    // Live first (buffered), then history from the source of truth, so nothing falls in between.
    const buffer: DomainEvent[] = [];
    let live = false;
    const unsubscribe = deps.hub.subscribe(sessionId, (e) => (live ? write(e) : buffer.push(e)));
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    reply.raw.write(': connected\n\n');
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    keepAlive.unref();
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
    try {
      for (const e of await listAggregateEvents(deps.db, sessionId, sent)) write(e);
    } finally {
      live = true;
      for (const e of buffer.sort((a, b) => a.sequence - b.sequence)) write(e);
    }
  });

  return app;
}
