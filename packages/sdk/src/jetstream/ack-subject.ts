/**
 * The two numbers a subscriber needs from a JetStream message's ack subject, read without
 * nats.js' `JsMsg.info` (which splits the subject and parses all seven numbers into an object:
 * about 1 µs per message on the events bench, ADR 0025).
 *
 * Ack subjects (the reply of a delivered message), v1 and v2 (with domain and account hash):
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream_seq>.<consumer_seq>.<ts>.<pending>
 *   $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<stream_seq>.<consumer_seq>.<ts>.<pending>[.<token>]
 * Stream and consumer names cannot contain dots, so the token count tells the two apart.
 */
import type { JsMsg } from '@nats-io/jetstream';

export interface AckPosition {
  /** How many times the server delivered this message to the consumer (1 on the first). */
  readonly deliveryCount: number;
  /** The message's sequence in the stream. */
  readonly streamSequence: number;
  /**
   * When the stream stored the message (Unix nanoseconds, kept as the subject's digits: they do
   * not fit a double). With the sequence it names the message across the stream's lifetimes — a
   * deleted and recreated stream counts from 1 again (ADR 0025).
   */
  readonly storedAt: string;
}

/** The delivery count and stream sequence of an ack subject, or undefined when it is not one. */
export function readAckPosition(reply: string): AckPosition | undefined {
  const tokens = reply.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined;
  const at = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1; // index of <delivered>
  if (at < 0) return undefined;
  const deliveryCount = Number(tokens[at]);
  const streamSequence = Number(tokens[at + 1]);
  const storedAt = tokens[at + 3] ?? '';
  if (!Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(streamSequence) || deliveryCount < 1 || streamSequence < 1) return undefined;
  if (!/^\d{1,20}$/.test(storedAt)) return undefined;
  return { deliveryCount, streamSequence, storedAt };
}

/**
 * {@link readAckPosition} of a delivered message, falling back to nats.js' own parse. `reply` is
 * on nats.js' JsMsg implementation (it is what `info` parses) but not on its interface.
 */
export function ackPositionOf(msg: JsMsg): AckPosition {
  const reply = (msg as JsMsg & { readonly reply?: string }).reply;
  const position = reply === undefined ? undefined : readAckPosition(reply);
  if (position !== undefined) return position;
  const info = msg.info;
  return { deliveryCount: info.deliveryCount, streamSequence: info.streamSequence, storedAt: String(info.timestampNanos) };
}
