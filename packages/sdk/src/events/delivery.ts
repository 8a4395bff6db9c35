/**
 * The transport-neutral delivery pipeline. A transport turns a broker message into a
 * {@link Delivery}, runs it through the composed interceptors and applies the resulting
 * {@link Outcome} with its native verb (JetStream ack/nak/term, Redis XACK/XCLAIM/XADD).
 * Keeping the decision here is what makes NATS and Redis behave identically.
 */
import type { Qos, TransportName } from './types.js';

/** One delivery of one message to one consumer group. */
export interface Delivery {
  readonly transport: TransportName;
  readonly topic: string;
  readonly group: string;
  readonly messageId: string;
  /**
   * What QoS 2 dedupe keys on: the message id, except for a NATS event named by its stream
   * position (ADR 0025), whose sequence restarts when the stream is recreated — there it also
   * carries the time the stream stored it, so a new event never meets an old one's record.
   */
  readonly dedupeId: string;
  readonly key: string | undefined;
  readonly qos: Qos;
  /** User headers only (reserved `Ipc-`/`Nats-` headers removed). */
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
  /** Broker-counted deliveries of this message to this group, 1 on the first. */
  readonly deliveryCount: number;
  /**
   * QoS 2 (ADR 0026): how long the handler may run before this delivery must hold the id's lease.
   * Absent or 0: claim before the handler. Only the first delivery of an SDK-made id on NATS gets more.
   */
  readonly claimGraceMs?: number;
  /** QoS 2: wait this long before claiming at all (a replay whose original may still run unclaimed elsewhere). */
  readonly claimWaitMs?: number;
  /** The publisher's W3C trace context (`traceparent`, `tracestate`), when the message carries one. */
  readonly trace: Readonly<Record<string, string>> | undefined;
}

/** What happened to a delivery, from the handler outwards. */
export type Outcome =
  /** Done: acknowledge. `duplicate` when QoS 2 dedupe skipped the handler. */
  | { readonly type: 'ack'; readonly duplicate?: boolean }
  /** The handler (or a store) failed; the retry policy decides between retry and dead letter. */
  | { readonly type: 'fail'; readonly error: string; readonly retryable: boolean }
  /** Another consumer holds the message id's lease: look again later. */
  | { readonly type: 'busy'; readonly delayMs: number }
  /** Redeliver after `delayMs`. `busy`: not a failure — another consumer held the id's lease (QoS 2). */
  | { readonly type: 'retry'; readonly delayMs: number; readonly error: string; readonly busy?: true }
  /** Park in the dead-letter stream with `error`. */
  | { readonly type: 'dead-letter'; readonly error: string };

/** The next stage of the pipeline. */
export type DeliveryNext = (delivery: Delivery) => Promise<Outcome>;
/** A cross-cutting stage (STYLE habit 7): never mutates `delivery`. */
export type DeliveryInterceptor = (delivery: Delivery, next: DeliveryNext) => Promise<Outcome>;

/** Chains `interceptors` (first = outermost) around `terminal`. */
export function composeDelivery(interceptors: readonly DeliveryInterceptor[], terminal: DeliveryNext): DeliveryNext {
  return interceptors.reduceRight<DeliveryNext>((next, interceptor) => (delivery) => interceptor(delivery, next), terminal);
}

/** Retry settings of a subscription. */
export interface RetryPolicy {
  readonly maxDeliver: number;
  readonly backoff: readonly number[];
}

/** Delay before delivery `deliveryCount + 1`: `backoff[deliveryCount - 1]`, the last one repeating. */
export function backoffDelay(backoff: readonly number[], deliveryCount: number): number {
  if (backoff.length === 0) return 0;
  return backoff[Math.min(Math.max(deliveryCount, 1), backoff.length) - 1] ?? 0;
}

/**
 * Applies the retry policy: failures are retried with backoff until `maxDeliver` handler attempts
 * have failed, then dead-lettered. Deliveries beyond `maxDeliver` (the spare delivery the broker
 * is configured with) mean the last attempt crashed before it could dead-letter: park them
 * without calling the handler again, so a poison message gets exactly `maxDeliver` attempts.
 */
export function retryPolicyInterceptor(policy: RetryPolicy): DeliveryInterceptor {
  return async (delivery, next) => {
    if (delivery.deliveryCount > policy.maxDeliver) {
      return { type: 'dead-letter', error: `delivery limit of ${policy.maxDeliver} reached (the last attempt did not finish)` };
    }
    const outcome = await next(delivery);
    if (outcome.type === 'busy') return { type: 'retry', delayMs: outcome.delayMs, error: 'message id leased by another consumer', busy: true };
    if (outcome.type !== 'fail') return outcome;
    if (!outcome.retryable || delivery.deliveryCount >= policy.maxDeliver) return { type: 'dead-letter', error: outcome.error };
    return { type: 'retry', delayMs: backoffDelay(policy.backoff, delivery.deliveryCount), error: outcome.error };
  };
}

/** A one-line error text for logs, headers and dead letters (no newlines, bounded). */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.replace(/[\r\n]+/g, ' ').slice(0, 500);
}
