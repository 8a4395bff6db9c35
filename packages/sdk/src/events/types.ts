/**
 * Public types of the event bus: publish/subscribe options, the message a handler receives and
 * the subscription handle. Transport-neutral: the same shapes on NATS and Redis.
 */

/** Delivery levels. `0` at most once, `1` at least once, `2` exactly once per consumer group. */
export const QOS = { atMostOnce: 0, atLeastOnce: 1, exactlyOnce: 2 } as const;
export type Qos = (typeof QOS)[keyof typeof QOS];

/** The brokers an event can travel on. */
export const TRANSPORTS = ['nats', 'redis'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** Options of {@link EventBus.publish}. */
export interface PublishOptions {
  /** Delivery level. @default 1 */
  readonly qos?: Qos;
  /**
   * Identity of the event for de-duplication (QoS 2) and tracing; `[A-Za-z0-9_-]{1,128}`.
   * Pass the same id when retrying a publish after a crash. @default QoS 0 and 2: a new UUID v4;
   * QoS 1: where the broker stored the event (`<STREAM>-<seq>` on NATS, the entry id on Redis),
   * returned in the {@link PublishResult} — a publish retried after a lost broker answer may then
   * be stored twice under two ids, so pass an id when receivers must recognise such copies.
   */
  readonly messageId?: string;
  /** Business key carried to the handler (e.g. an order id). Not used for routing or ordering. */
  readonly key?: string;
  /** Extra headers for the handler. Names starting with `Ipc-` or `Nats-` are reserved. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Broker to use. @default the bus's `defaultTransport` */
  readonly transport?: TransportName;
}

/** What a publish returns. */
export interface PublishResult {
  readonly messageId: string;
  /** True when the broker recognised the message id as already published (QoS 2 retries). */
  readonly duplicate: boolean;
}

/** Options of {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /** Delivery level expected; QoS 0 subscribers see QoS 0 publishes, QoS 1/2 see QoS 1/2. @default 1 */
  readonly qos?: Qos;
  /**
   * Consumer group: subscribers of one group share the messages, each group gets all of them.
   * `[A-Za-z0-9_-]`. @default 'default'
   */
  readonly group?: string;
  /** Handler attempts before the message is dead-lettered (QoS ≥ 1). @default 5 */
  readonly maxDeliver?: number;
  /** Delays (ms) before attempt 2, 3, …; the last one repeats. @default [1000, 5000, 30000] */
  readonly backoff?: readonly number[];
  /** Handlers running at once in this subscriber. @default 1 */
  readonly concurrency?: number;
  /** Where a new group starts: only messages published from now on, or everything retained. @default 'new' */
  readonly from?: 'new' | 'all';
  /** Broker to use. @default the bus's `defaultTransport` */
  readonly transport?: TransportName;
}

/** The event as a handler receives it. */
export interface EventMessage<T = unknown> {
  readonly topic: string;
  readonly payload: T;
  readonly messageId: string;
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** QoS the message was published with. */
  readonly qos: Qos;
  /** 1 on first delivery; counts every delivery of this message to this group. */
  readonly deliveryCount: number;
  readonly transport: TransportName;
  readonly group: string;
}

/** A subscriber's handler. Returning resolves (acks) the message; throwing retries it. */
export type EventHandler<T = unknown> = (message: EventMessage<T>) => unknown;

/** A live subscription. */
export interface EventSubscription {
  readonly topic: string;
  readonly group: string;
  readonly transport: TransportName;
  /** Stops fetching, lets in-flight handlers finish and settles their messages. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One row of `stats()`: per topic and group. */
export interface TopicGroupStats {
  readonly transport: TransportName;
  readonly topic: string;
  readonly group: string;
  /** Delivered to a consumer but not acknowledged yet. */
  readonly pending: number;
  /** In the stream but not delivered to the group yet. */
  readonly lag: number;
}

/** A dead-lettered message as listed by `deadLetters()`. */
export interface DeadLetter {
  /** Id of the dead-letter entry (NATS: DLQ stream sequence; Redis: DLQ entry id). */
  readonly id: string;
  readonly transport: TransportName;
  readonly topic: string;
  readonly group: string;
  readonly messageId: string;
  readonly error: string;
  readonly deliveryCount: number;
  /** Epoch ms when the message was dead-lettered. */
  readonly deadLetteredAt: number;
  readonly payload: unknown;
}
