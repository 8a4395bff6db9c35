/**
 * How a delivery of an exactly-once call ends (the receiver's last step): its status record,
 * the broker ack or term, and the EO-2 ACK to waiting callers — or, for a message that cannot be
 * processed, its dead letter first. Split from {@link ./reliable-receiver.ts}, which decides
 * *which* outcome a delivery has; this file only records it.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { AegisError, WireError } from '@aegis-ipc/protocol';
import type { BoundCounter } from '../metrics/folded-counter.js';
import { publishAck, type AckMessage } from './ack-message.js';
import { parkRequest } from './dead-letter.js';
import type { IdempotencyGuard } from './idempotency-guard.js';
import type { MessageStatus, MessageStatusStore } from './message-status.js';
import type { ReliableMetrics } from './reliable-metrics.js';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import type { ResolvedReceiverOptions } from './receiver-options.js';

/** What became of one delivery (span attribute `ipc.reliable.outcome`). */
export type DeliveryOutcome =
  | 'acknowledged' | 'duplicate' | 'failed' | 'dead_lettered' | 'expired' | 'busy' | 'malformed' | 'not_recorded' | 'ack_dropped' | 'copy_dropped';

/** The fields of a message's status record known from its request alone. */
export interface StatusBase {
  readonly message_id: string;
  readonly service_name: string;
  readonly method: string;
  readonly trace_id: string;
  /** From the caller's header, so recording an outcome needs no read first. */
  readonly created_at: string;
  readonly replays: number;
}

/** A PENDING record of `base` (a retry's or a claim's). */
export function newStatus(base: StatusBase, updatedAt: string): MessageStatus {
  return { ...base, state: 'PENDING', retry_count: 0, last_error: null, updated_at: updatedAt };
}

interface BoundMetrics {
  readonly cacheMisses: BoundCounter;
  readonly acknowledgedSuccess: BoundCounter;
  readonly acknowledgedFailure: BoundCounter;
  readonly duration: { observe(seconds: number): void };
}

export class OutcomeRecorder {
  /** Per-service metric children of the per-delivery path, bound once. */
  readonly #boundMetrics = new Map<string, BoundMetrics>();

  constructor(
    private readonly nc: Parameters<typeof publishAck>[0],
    private readonly js: JetStreamClient,
    private readonly instanceId: string,
    private readonly status: MessageStatusStore,
    private readonly guard: IdempotencyGuard,
    private readonly options: Pick<ResolvedReceiverOptions, 'beforeAck'>,
    private readonly metrics: ReliableMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Records a terminal state, acks (or terms) the broker delivery and publishes the ACK. Returns
   * an outcome only when it did not get that far (`not_recorded`, `ack_dropped`).
   */
  async finish(
    msg: JsMsg, ackTo: string, base: StatusBase, state: 'ACKNOWLEDGED' | 'EXPIRED' | 'FAILED', error: AegisError | undefined, deliveryCount: number,
    started: number, log: () => Logger, response?: unknown, duplicate = false, dlqSeq?: number,
    processed?: { readonly completion: Promise<void>; readonly recordOutcome?: (status: MessageStatus) => Promise<void> },
  ): Promise<DeliveryOutcome | undefined> {
    // One literal, no spreads: the record is built once per delivery and encoded as it is (keys
    // left undefined are not encoded). The status-record guard's record also says nobody holds it.
    const status: MessageStatus = {
      message_id: base.message_id, service_name: base.service_name, method: base.method, trace_id: base.trace_id, created_at: base.created_at,
      replays: base.replays, state, retry_count: deliveryCount - 1, last_error: error ? `${error.code}: ${error.message}` : null,
      updated_at: new Date().toISOString(), instance_id: this.instanceId, error: error?.toWire() ?? null, dlq_seq: dlqSeq ?? null,
      response: state === 'ACKNOWLEDGED' ? response : undefined, lease_until: this.guard.kind === 'status' ? null : undefined,
    };
    try {
      // One write when the guard's record is the status record (claim → outcome, compare-and-set).
      await (processed?.recordOutcome !== undefined ? processed.recordOutcome(status) : Promise.all([this.status.put(status), processed?.completion]));
    } catch (err) {
      // Without its status the outcome is not durable for pollers: redeliver (the guard dedupes).
      log().warn({ event: 'message_state_record_failed', state, err }, 'could not record the outcome; the broker will redeliver');
      msg.nak(1000);
      return 'not_recorded';
    }
    if (this.options.beforeAck?.(base.message_id, deliveryCount) === 'drop') {
      log().warn({ event: 'ack_dropped' }, 'test seam dropped the acknowledgement');
      return 'ack_dropped';
    }
    if (state === 'ACKNOWLEDGED') msg.ack();
    else msg.term();
    const processingMs = this.publishAck(ackTo, base, state === 'ACKNOWLEDGED' ? 'success' : 'failure', started, duplicate, response, error?.toWire(), error ? error.message : null);
    // ACKNOWLEDGED is every call's happy path: debug, so production logs stay quiet (a duplicate
    // already said `dedupe_hit` at info). FAILED and EXPIRED are what an operator looks for.
    const level = state === 'ACKNOWLEDGED' ? 'debug' : 'warn';
    if (this.log.isLevelEnabled(level)) log()[level]({ event: 'message_state', state, duplicate, processing_time_ms: processingMs }, `message ${state}`);
    return undefined;
  }

  /** Publishes the EO-2 ACK (see {@link publishAck}) and counts it; returns the processing time in ms. */
  publishAck(
    ackTo: string,
    base: StatusBase, status: 'success' | 'failure', started: number, duplicate: boolean, response: unknown,
    error: WireError | undefined, errorMessage: string | null,
  ): number {
    const processingMs = performance.now() - started;
    const bound = this.bound(base.service_name);
    bound.duration.observe(processingMs / 1000);
    (status === 'success' ? bound.acknowledgedSuccess : bound.acknowledgedFailure).inc();
    const ack: AckMessage = {
      message_id: base.message_id, service_name: base.service_name, instance_id: this.instanceId,
      status, error_message: status === 'success' ? null : (errorMessage ?? error?.message ?? null),
      processing_time_ms: Math.round(processingMs * 1000) / 1000, trace_id: base.trace_id, duplicate,
      ...(status === 'success' ? { response } : { error }),
    };
    publishAck(this.nc, ack, ackTo);
    return ack.processing_time_ms;
  }

  /** Dead-letters the message, then records it FAILED and answers the callers with the error. */
  async park(msg: JsMsg, base: StatusBase, error: AegisError, started: number, log: () => Logger): Promise<DeliveryOutcome> {
    let seq: number;
    try {
      seq = await parkRequest(this.js, msg, base.service_name, base.method, `${error.code}: ${error.message}`);
    } catch (err) {
      log().error({ event: 'message_dead_letter_failed', err }, 'could not dead-letter the message; the spare delivery will park it');
      msg.nak(1000);
      return 'failed';
    }
    this.metrics.deadLettered.inc({ service_name: base.service_name });
    log().warn({ event: 'message_dead_lettered', dlq_seq: seq, err: error.toWire() }, 'message FAILED and dead-lettered');
    return (await this.finish(msg, msg.headers?.get(RELIABLE_HEADERS.ackTo) ?? '', base, 'FAILED', error, msg.info.deliveryCount, started, log, undefined, false, seq)) ?? 'dead_lettered';
  }

  bound(serviceName: string): BoundMetrics {
    let bound = this.#boundMetrics.get(serviceName);
    if (bound === undefined) {
      const m = this.metrics;
      bound = {
        cacheMisses: m.cacheMisses.bind({ service_name: serviceName }),
        acknowledgedSuccess: m.acknowledged.bind({ service_name: serviceName, status: 'success' }),
        acknowledgedFailure: m.acknowledged.bind({ service_name: serviceName, status: 'failure' }),
        duration: m.processingDuration.labels({ service_name: serviceName }),
      };
      this.#boundMetrics.set(serviceName, bound);
    }
    return bound;
  }
}
