/**
 * A NATS subscription. QoS 0: a core subscription (queue group = consumer group). QoS 1/2: a
 * durable pull consumer read with `consume()` (the client keeps a batch of pulls outstanding, so
 * the hot path never waits for a per-message round trip); acks, naks with the backoff delay and
 * terms are fire-and-forget protocol messages.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/nats-core';
import { ackPositionOf } from '../jetstream/ack-subject.js';
import type { Logger } from 'pino';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import type { Delivery, DeliveryNext, Outcome } from './delivery.js';
import type { ResolvedSubscribeOptions } from './event-bus-options.js';
import { EVENT_HEADERS, readEnvelope } from './event-headers.js';
import { traceIdOf } from './event-logging.js';
import { headerEntries, streamPositionId, toNatsHeaders, type NatsContext } from './nats-transport.js';
import { LazyClaimWindow } from './lazy-claim-window.js';
import { ensureConsumer } from './nats-topology.js';
import type { EventSubscription } from './types.js';
import type { SubscriptionHooks } from './event-transport.js';

export async function subscribeNats(
  ctx: NatsContext,
  topic: string,
  options: ResolvedSubscribeOptions,
  pipeline: DeliveryNext,
  hooks: SubscriptionHooks = {},
): Promise<EventSubscription> {
  return options.qos === 0 ? subscribeCore(ctx, topic, options, pipeline) : subscribeDurable(ctx, topic, options, pipeline, hooks);
}

/** How a message without an `Ipc-Message-Id` header is named: its id and its QoS 2 dedupe id. */
interface Unnamed {
  readonly id: string;
  readonly dedupeId: string;
}

/** Where a QoS 2 delivery stands towards claiming its id (ADR 0026). */
interface ClaimTiming {
  readonly window: LazyClaimWindow;
  readonly storedAt: string;
}

function toDelivery(
  topic: string,
  options: ResolvedSubscribeOptions,
  msg: Msg | JsMsg,
  unnamed: Unnamed,
  deliveryCount: number,
  timing?: ClaimTiming,
): Delivery {
  // MsgHdrs iterates its own map as [name, values]; its get() would scan the keys per call.
  const env = readEnvelope(msg.headers ?? [], unnamed.id);
  return {
    // Only a copy the stream de-duplicated by its own id counts as the first copy: a replay's
    // Nats-Msg-Id is its own, and a dead letter written by an older SDK kept the mark (ADR 0026).
    claimGraceMs: timing === undefined ? 0 : timing.window.graceMs(env.madeId && env.natsMsgId === env.messageId, deliveryCount, timing.storedAt),
    claimWaitMs: timing === undefined ? 0 : timing.window.waitMs(env.firstStoredAt),
    transport: 'nats',
    topic,
    group: options.group,
    messageId: env.messageId,
    dedupeId: env.dedupeId ?? (env.hasMessageId ? env.messageId : unnamed.dedupeId),
    key: env.key,
    qos: env.qos,
    headers: env.user,
    data: msg.data,
    deliveryCount,
    trace: env.trace,
  };
}

function subscribeCore(ctx: NatsContext, topic: string, options: ResolvedSubscribeOptions, pipeline: DeliveryNext): EventSubscription {
  const limiter = new ConcurrencyLimiter(options.concurrency);
  const sub = ctx.nc.subscribe(ctx.subjects.volatile(topic), { queue: options.group });
  const onError = (err: unknown) => ctx.logger.error({ err, topic, group: options.group }, 'QoS 0 event handler failed');
  const loop = (async () => {
    for await (const msg of sub) {
      await limiter.slot();
      limiter.run(async () => {
        const id = `core-${Date.now()}`;
        // At most once: a failure is logged (event_dropped, by the logging stage) and the message is gone.
        await pipeline(toDelivery(topic, options, msg, { id, dedupeId: id }, 1));
      }, onError);
    }
  })();
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await sub.drain();
      await loop;
      await limiter.idle();
    })());
  return { topic, group: options.group, transport: 'nats', close, [Symbol.asyncDispose]: close };
}

async function subscribeDurable(
  ctx: NatsContext,
  topic: string,
  options: ResolvedSubscribeOptions,
  pipeline: DeliveryNext,
  hooks: SubscriptionHooks,
): Promise<EventSubscription> {
  const name = await ensureConsumer(ctx.jsm, ctx.options, topic, options);
  const consumer = await ctx.js.consumers.get(ctx.options.stream, name);
  const log = ctx.logger.child({ topic, group: options.group, consumer: name });
  // Prefetch a little beyond what runs at once: enough to keep handlers busy, not so much that
  // buffered messages sit out their ack_wait behind a slow handler.
  // Pull requests expire no later than ack_wait: on NATS 2.9 a SIGKILLed subscriber's open pulls
  // keep receiving (and burning) redeliveries until they expire, so the client's 30 s default
  // could use up max_deliver with no live subscriber seeing the message.
  const expires = Math.min(30_000, Math.max(1_000, ctx.options.ackWaitMs));
  const window = options.qos === 2 ? await openClaimWindow(ctx, name, log) : undefined;
  let messages;
  try {
    messages = await consumer.consume({ max_messages: Math.max(options.concurrency * 2, 8), expires });
  } catch (err) {
    window?.close(); // its refresh timer would otherwise keep asking the server
    throw err;
  }
  const limiter = new ConcurrencyLimiter(options.concurrency);
  let closing = false;
  // One sweeper per subscription (not a timer per message): handlers running longer than a third
  // of ack_wait tell the server they are still working, so a slow handler is not redelivered;
  // QoS 2 renews their dedupe leases on the same tick (ADR 0027).
  const inFlight = new Map<JsMsg, number>();
  const third = Math.max(30, Math.floor(ctx.options.ackWaitMs / 3));
  const { sweep } = hooks;
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [msg, started] of inFlight) if (now - started >= third) msg.working();
    sweep?.(now);
  }, third);
  sweeper.unref();

  // Acks of one event-loop turn are sent back to back: nats.js flushes once per microtask wave
  // that wrote something, so acks issued from each handler's own continuation were a socket write
  // each (ADR 0023, round 2). An ack still goes out only after the handler succeeded, at most one
  // turn later; close() sends the remaining ones before it stops the consumer.
  let acks: JsMsg[] = [];
  const sendAcks = (): void => {
    const batch = acks;
    acks = [];
    for (const msg of batch) {
      try {
        msg.ack();
      } catch (err) {
        // Not acked: the server redelivers it after ack_wait (a QoS 1 duplicate, a QoS 2 skip).
        log.warn({ event: 'event_ack_failed', err, seq: msg.seq }, 'could not ack an event; it will be redelivered');
      }
    }
  };

  const settle = async (msg: JsMsg, delivery: Delivery, outcome: Outcome): Promise<void> => {
    switch (outcome.type) {
      case 'ack':
        if (acks.push(msg) === 1) setImmediate(sendAcks);
        return;
      case 'fail': // the retry policy turns fails into retry/dead-letter; kept for exhaustiveness
      case 'retry':
        msg.nak(outcome.type === 'retry' ? outcome.delayMs : 0);
        return;
      case 'busy':
        msg.nak(outcome.delayMs);
        return;
      case 'dead-letter':
        try {
          await publishDeadLetter(ctx, msg, delivery, outcome.error);
          // No reason argument: NATS 2.9 does not parse `+TERM <reason>` and leaves the message pending.
          msg.term();
        } catch (err) {
          // Leave it to the spare delivery: the message comes back and is parked again.
          log.error(
            { event: 'event_dead_letter_failed', err, seq: msg.seq, message_id: delivery.messageId, trace_id: traceIdOf(delivery.trace) },
            'could not dead-letter an event; it will be redelivered',
          );
          msg.nak(1000);
        }
    }
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    const position = ackPositionOf(msg);
    const id = streamPositionId(ctx.options.stream, position.streamSequence);
    // The stored time makes the dedupe id unique across stream lifetimes: a recreated stream
    // counts from 1 again while the dedupe bucket still remembers the old ids (ADR 0025).
    const timing = window === undefined ? undefined : { window, storedAt: position.storedAt };
    const delivery = toDelivery(topic, options, msg, { id, dedupeId: `${id}-${position.storedAt}` }, position.deliveryCount, timing);
    inFlight.set(msg, Date.now());
    let outcome: Outcome;
    try {
      outcome = await pipeline(delivery);
    } finally {
      inFlight.delete(msg);
    }
    // The common case without another async call (and its promise) per event.
    if (outcome.type === 'ack') {
      if (acks.push(msg) === 1) setImmediate(sendAcks);
      return;
    }
    await settle(msg, delivery, outcome);
  };

  const loop = (async () => {
    for await (const msg of messages) {
      if (closing) {
        msg.nak(); // hand buffered messages back now instead of after ack_wait
        continue;
      }
      if (limiter.full) await limiter.slot();
      limiter.run(() => handle(msg), (err) => log.error({ err, seq: msg.seq }, 'event delivery failed'));
    }
  })();

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      await limiter.idle();
      sendAcks();
      await messages.close();
      await loop;
      await limiter.idle();
      sendAcks();
      clearInterval(sweeper);
      window?.close();
    })());
  return { topic, group: options.group, transport: 'nats', close, [Symbol.asyncDispose]: close };
}

/** The lazy-claim window of a QoS 2 subscription, from the stream's and consumer's server settings. */
async function openClaimWindow(ctx: NatsContext, consumer: string, log: Logger): Promise<LazyClaimWindow> {
  const { jsm, options } = ctx;
  const window = new LazyClaimWindow(
    async () => {
      const [stream, info] = await Promise.all([jsm.streams.info(options.stream), jsm.consumers.info(options.stream, consumer)]);
      return { duplicateWindowMs: stream.config.duplicate_window / 1e6, ackWaitMs: (info.config.ack_wait ?? 0) / 1e6 };
    },
    Math.floor(Math.min(options.duplicateWindowMs, options.ackWaitMs) / 2),
    (err) => log.warn({ err }, 'cannot read the duplicate window and ack_wait; QoS 2 deliveries claim first until they are known'),
  );
  await window.start();
  return window;
}

async function publishDeadLetter(ctx: NatsContext, msg: JsMsg, delivery: Delivery, error: string): Promise<void> {
  const h = Object.fromEntries(headerEntries(msg.headers));
  delete h[EVENT_HEADERS.natsMsgId];
  if (h[EVENT_HEADERS.madeId] !== undefined) {
    // A replay is not the first copy of its id: it claims first. It also waits until the
    // original's unclaimed runs in other groups are over, so it needs the original's stored time.
    delete h[EVENT_HEADERS.madeId];
    h[EVENT_HEADERS.firstStoredAt] ??= ackPositionOf(msg).storedAt.slice(0, -6);
  }
  Object.assign(h, {
    // Written out: an event published without an id is known by its position in the event
    // stream (ADR 0025), which the dead letter and a replay must keep — and so is its dedupe id,
    // or QoS 2 groups that completed the original would run the replay again.
    [EVENT_HEADERS.messageId]: delivery.messageId,
    ...(delivery.dedupeId === delivery.messageId ? {} : { [EVENT_HEADERS.dedupeId]: delivery.dedupeId }),
    [EVENT_HEADERS.dlqTopic]: delivery.topic,
    [EVENT_HEADERS.dlqGroup]: delivery.group,
    [EVENT_HEADERS.dlqError]: error,
    [EVENT_HEADERS.dlqDeliveries]: String(delivery.deliveryCount),
    [EVENT_HEADERS.dlqAt]: String(Date.now()),
  });
  // The msgID makes a repeated dead-lettering of this delivery (crash before term) a no-op.
  await ctx.js.publish(ctx.subjects.deadLetter(delivery.topic), msg.data, {
    headers: toNatsHeaders(h),
    msgID: `dlq-${delivery.group}-${ctx.options.stream}-${msg.seq}`,
  });
}
