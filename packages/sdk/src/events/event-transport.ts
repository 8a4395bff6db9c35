/**
 * The internal contract each broker implements. The bus does validation, encoding and the
 * delivery pipeline; a transport only moves bytes and applies outcomes with its native verbs.
 */
import type { DeliveryNext } from './delivery.js';
import type { ResolvedSubscribeOptions } from './event-bus-options.js';
import type { DeadLetter, PublishResult, Qos, EventSubscription, TopicGroupStats, TransportName } from './types.js';

export interface OutgoingEvent {
  readonly topic: string;
  readonly qos: Qos;
  /**
   * The caller's id, or the generated UUID of a QoS 0/2 event. Undefined for a QoS 1 event
   * published without one: its id is where the broker stored it (ADR 0025), which the transport
   * returns in the {@link PublishResult}.
   */
  readonly messageId: string | undefined;
  /** Reserved envelope headers plus user headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

/** What a subscription calls besides its delivery pipeline. */
export interface SubscriptionHooks {
  /**
   * Called at the end of each tick of the subscription's in-flight sweep (the one that sends
   * JetStream `working()` / Redis `XCLAIM JUSTID` for slow handlers), every third of ack_wait or
   * claimIdleMs: QoS 2 renews its running handlers' dedupe leases there (ADR 0027).
   */
  readonly sweep?: (now: number) => void;
}

export interface EventTransport {
  readonly name: TransportName;
  /** Creates or checks broker-side objects (streams, persistence check). Idempotent. */
  start(): Promise<void>;
  /** Releases what `start()` set up (not the connection, which is the caller's). */
  close(): Promise<void>;
  /** @throws AegisError `PAYLOAD_TOO_LARGE` or `PUBLISH_FAILED` */
  publish(event: OutgoingEvent): Promise<PublishResult>;
  subscribe(topic: string, options: ResolvedSubscribeOptions, pipeline: DeliveryNext, hooks?: SubscriptionHooks): Promise<EventSubscription>;
  stats(): Promise<TopicGroupStats[]>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Re-publishes one dead letter to its topic and removes it; false when it does not exist. */
  replay(id: string): Promise<boolean>;
}
