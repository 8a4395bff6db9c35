/**
 * Watches the MAX_DELIVERIES advisories of the reliable request stream and parks the requests
 * no instance parked (ADR 0051). Router replicas share the work through the router queue group.
 * The advisory is core NATS: one missed while no router runs leaves that message PENDING in the
 * stream (never lost); docs/guarantees.md says so.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { AegisError, QUEUE_GROUPS } from '@aegis-ipc/protocol';
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
/**
 * Waits before each new try of a park that failed (a refused publish, a broken connection, the
 * dead-letter stream briefly unavailable). The server sends ONE advisory per message: a park given
 * up leaves the request PENDING in the stream and its caller waiting out its own timeout. Five more
 * tries over about 30 s outlast a reconnect (2 s waits) and a JetStream leader election (seconds);
 * bounded, so a dead-letter stream that stays broken does not pile up timers for ever (ADR 0051).
 */
export const PARK_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000];

/** Counts the requests whose park was given up after every try (`ipc_router_stalled_parks_abandoned_total`). */
export interface AbandonedParks {
  inc(): void;
}

export class StalledRequestWatcher {
  #sub: Subscription | undefined;
  /** Looks again at held requests and tries again failed parks; cleared by close(). */
  readonly #rechecks = new Set<NodeJS.Timeout>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly statuses: MessageStatusService,
    private readonly log: Logger,
    private readonly abandoned: AbandonedParks,
    private readonly retryDelaysMs: readonly number[] = PARK_RETRY_DELAYS_MS,
  ) {}

  start(): void {
    this.#sub = this.nc.subscribe(maxDeliveriesAdvisorySubject(), {
      queue: QUEUE_GROUPS.router,
      callback: guardedCallback((err, msg) => {
        if (err) return;
        const advisory = parseAdvisory(msg.data);
        if (advisory === undefined) return;
        this.#park(advisory.seq, advisory.deliveries, 1, 0);
      }, (err) => this.log.error({ err }, 'a subscription callback threw; that message was dropped')),
    });
  }

  /** `look`: how many times the request was found held so far, plus one; `failures`: parks that failed so far. */
  #park(seq: number, deliveries: number, look: number, failures: number): void {
    const park = async () => {
      // Every try re-reads the stream and the status first: a request acked, parked or ended
      // meanwhile (by an instance, or by another router) comes back undefined and is left alone.
      const result = await parkStalledRequest(this.nc, await this.statuses.store(), seq, deliveries);
      if (result === undefined) return;
      if ('held' in result) {
        // Never park an id another delivery holds (ADR 0027, round 3): look again when its lease is over.
        if (look >= MAX_HELD_LOOKS) {
          this.log.warn({ event: 'stalled_request_left_held', message_id: result.messageId, stream_seq: seq, looks: look }, 'a request past max_deliver is still held by a running delivery; left in the stream for its holder to end');
          return;
        }
        this.log.info({ event: 'stalled_request_held', message_id: result.messageId, stream_seq: seq, held_until: result.heldUntil }, 'a request past max_deliver is held by a running delivery; not parked, looking again after its lease');
        this.#again(Math.max(0, result.heldUntil - Date.now()) + HELD_RECHECK_MARGIN_MS, () => this.#park(seq, deliveries, look + 1, failures));
        return;
      }
      this.log.warn(
        { event: 'message_dead_lettered', message_id: result.messageId, trace_id: result.traceId, service_name: result.serviceName, method: result.method, stream_seq: seq, deliveries, failed_tries: failures },
        'no instance parked a request past max_deliver; parked it FAILED',
      );
    };
    park().catch((e: unknown) => this.#failed(seq, deliveries, look, failures + 1, e));
  }

  /** A park failed for the `failures`-th time: try again after the next delay, or give up loudly. */
  #failed(seq: number, deliveries: number, look: number, failures: number, err: unknown): void {
    const details = err instanceof AegisError ? (err.details as Readonly<Record<string, unknown>> | undefined) : undefined;
    const ids = { message_id: details?.message_id, trace_id: details?.trace_id, stream_seq: seq };
    const delayMs = this.retryDelaysMs[failures - 1];
    if (delayMs === undefined || this.#sub === undefined || this.#sub.isClosed()) {
      this.abandoned.inc();
      this.log.error({ event: 'message_dead_letter_abandoned', ...ids, err, tries: failures }, 'could not park a stalled reliable request after every try; it stays PENDING in the request stream and its caller waits out its own timeout');
      return;
    }
    this.log.warn({ event: 'message_dead_letter_failed', ...ids, err, tries: failures, retry_in_ms: delayMs }, 'could not park a stalled reliable request; trying again');
    this.#again(delayMs, () => this.#park(seq, deliveries, look, failures));
  }

  /** Runs `next` after `ms` unless close() came first. */
  #again(ms: number, next: () => void): void {
    const timer = setTimeout(() => {
      this.#rechecks.delete(timer);
      next();
    }, ms);
    timer.unref();
    this.#rechecks.add(timer);
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
