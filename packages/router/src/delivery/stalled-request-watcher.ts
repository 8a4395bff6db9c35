/**
 * Watches the MAX_DELIVERIES advisories of the reliable request stream and parks the requests
 * no instance parked (ADR 0051). Router replicas share the work through the router queue group.
 * The advisory is core NATS: one missed while no router runs leaves that message PENDING in the
 * stream (never lost); docs/guarantees.md says so.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { QUEUE_GROUPS } from '@aegis-ipc/protocol';
import { guardedCallback, maxDeliveriesAdvisorySubject, parkStalledRequest } from '@aegis-ipc/sdk';
import type { MessageStatusService } from './message-status-service.js';

export class StalledRequestWatcher {
  #sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly statuses: MessageStatusService,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#sub = this.nc.subscribe(maxDeliveriesAdvisorySubject(), {
      queue: QUEUE_GROUPS.router,
      callback: guardedCallback((err, msg) => {
        if (err) return;
        const advisory = parseAdvisory(msg.data);
        if (advisory === undefined) return;
        const { seq, deliveries } = advisory;
        const park = async () => {
          const parked = await parkStalledRequest(this.nc, await this.statuses.store(), seq, deliveries);
          if (parked === undefined) return;
          this.log.warn(
            { event: 'message_dead_lettered', message_id: parked.messageId, trace_id: parked.traceId, service_name: parked.serviceName, method: parked.method, stream_seq: seq, deliveries },
            'no instance parked a request past max_deliver; parked it FAILED',
          );
        };
        park().catch((e: unknown) => this.log.error({ event: 'message_dead_letter_failed', err: e, stream_seq: seq }, 'could not park a stalled reliable request'));
      }, (err) => this.log.error({ err }, 'a subscription callback threw; that message was dropped')),
    });
  }

  close(): void {
    this.#sub?.unsubscribe();
  }
}

/**
 * `stream_seq` and `deliveries` of a MAX_DELIVERIES advisory; undefined for anything malformed.
 * It must never throw: a throwing subscription callback ends the connection's reader in nats.js
 * ("reader closed"), and a `null` payload did exactly that — the whole router stopped serving
 * (found by the watcher's integration test, ADR 0051). The server sends JSON numbers, so
 * anything else (`true`, `"7"`) is malformed rather than coerced to a sequence.
 */
function parseAdvisory(data: Uint8Array): { seq: number; deliveries: number } | undefined {
  let advisory: unknown;
  try {
    advisory = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  if (typeof advisory !== 'object' || advisory === null) return undefined;
  const { stream_seq: seq, deliveries } = advisory as { stream_seq?: unknown; deliveries?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return undefined;
  return { seq, deliveries: typeof deliveries === 'number' && Number.isSafeInteger(deliveries) && deliveries > 0 ? deliveries : 0 };
}
