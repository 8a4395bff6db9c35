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

/**
 * A request whose id a delivery holds (a live status-record lease) is looked at again this long
 * after the lease's end as read: a finished holder has recorded its outcome by then, a dead one has
 * let the lease lapse.
 */
const HELD_RECHECK_MARGIN_MS = 250;
/**
 * Looks per held request before it is left in the stream, PENDING, for its holder to end (a live
 * holder renews its lease, so each look may find it held again): with the 30 s default lease,
 * about ten minutes of a handler still running.
 */
const MAX_HELD_LOOKS = 20;

export class StalledRequestWatcher {
  #sub: Subscription | undefined;
  /** Looks again at held requests; cleared by close(). */
  readonly #rechecks = new Set<NodeJS.Timeout>();

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
        this.#park(advisory.seq, advisory.deliveries, 1);
      }, (err) => this.log.error({ err }, 'a subscription callback threw; that message was dropped')),
    });
  }

  #park(seq: number, deliveries: number, look: number): void {
    const park = async () => {
      const result = await parkStalledRequest(this.nc, await this.statuses.store(), seq, deliveries);
      if (result === undefined) return;
      if ('held' in result) {
        // Never park an id another delivery holds (ADR 0027, round 3): look again when its lease is over.
        if (look >= MAX_HELD_LOOKS) {
          this.log.warn({ event: 'stalled_request_left_held', message_id: result.messageId, stream_seq: seq, looks: look }, 'a request past max_deliver is still held by a running delivery; left in the stream for its holder to end');
          return;
        }
        this.log.info({ event: 'stalled_request_held', message_id: result.messageId, stream_seq: seq, held_until: result.heldUntil }, 'a request past max_deliver is held by a running delivery; not parked, looking again after its lease');
        const timer = setTimeout(() => {
          this.#rechecks.delete(timer);
          this.#park(seq, deliveries, look + 1);
        }, Math.max(0, result.heldUntil - Date.now()) + HELD_RECHECK_MARGIN_MS);
        timer.unref();
        this.#rechecks.add(timer);
        return;
      }
      this.log.warn(
        { event: 'message_dead_lettered', message_id: result.messageId, trace_id: result.traceId, service_name: result.serviceName, method: result.method, stream_seq: seq, deliveries },
        'no instance parked a request past max_deliver; parked it FAILED',
      );
    };
    park().catch((e: unknown) => this.log.error({ event: 'message_dead_letter_failed', err: e, stream_seq: seq }, 'could not park a stalled reliable request'));
  }

  close(): void {
    this.#sub?.unsubscribe();
    for (const timer of this.#rechecks) clearTimeout(timer);
    this.#rechecks.clear();
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
