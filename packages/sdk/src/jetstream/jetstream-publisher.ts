/**
 * Server-acknowledged JetStream publishes without nats.js's per-request cost (ADR 0023), shared
 * by the event bus and the KV dedupe store.
 *
 * `js.publish()` goes through `nc.request()`, which builds a `RequestError` and a `TimeoutError`
 * (two stack captures) and arms a timer for every message; on the event bus benchmark that was
 * about a third of the CPU a publish costs. This publisher does what the PubAck protocol needs
 * and nothing more: one wildcard inbox subscription, a token per publish, the reply parsed as a
 * PubAck, and one sweeper that fails publishes whose ack did not come within the timeout. The
 * guarantee is unchanged: a publish resolves only when the stream stored the message.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { guardedCallback } from '../transport/guarded-callback.js';

/** The stream's answer to a stored publish. */
export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  /** True when `Nats-Msg-Id` matched a message already stored within the duplicate window. */
  readonly duplicate: boolean;
}

/** A publish the server did not acknowledge; `retryable` when only the answer was lost. */
export class JetStreamPublishError extends Error {
  override readonly name = 'JetStreamPublishError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The JetStream API `err_code` of a rejection (10071: wrong last sequence), 0 otherwise. */
    readonly apiCode = 0,
  ) {
    super(message);
  }
}

interface Waiter {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

/** A publish waiting for the end of this event-loop turn to be written. */
interface Queued {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly token: string;
}

const td = new TextDecoder();

export class JetStreamPublisher {
  private readonly waiters = new Map<string, Waiter>();
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;
  /** Publishes of this turn, written together (one socket write instead of one per publish). */
  private queued: Queued[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    // Honour a custom inbox prefix (permissions often allow only `<prefix>.>` for replies).
    this.prefix = `${createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: guardedCallback((err, msg) => (err === null ? this.onReply(msg) : this.failAll(err))) });
    // One timer for every outstanding publish instead of one per publish; a timeout fires at
    // most a quarter of the timeout late.
    const every = Math.max(10, Math.floor(timeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /**
   * Publishes `data` (with a prebuilt header block, if any) and resolves with the stream's ack.
   * @throws JetStreamPublishError (timeout / no responders: `retryable`), or what `nc.publish`
   * throws synchronously on a closed connection.
   */
  publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<PubAck> {
    if (this.closing !== undefined) return Promise.reject(new JetStreamPublishError('the event publisher is closed', false));
    const token = (this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiters.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      if (this.queued.push({ subject, data, headers, token }) === 1) setImmediate(this.writeQueued);
    });
  }

  /**
   * nats.js flushes its outbound buffer in a microtask queued by the first command after a flush,
   * so publishes made from different promise continuations (every caller's own await chain) each
   * became a socket write — the largest CPU cost of the event bench (ADR 0023, round 2). Writing
   * the turn's publishes back to back puts them in one buffer and one write. Nothing resolves
   * before the server's ack, so the guarantee is unchanged; a publish leaves at most one turn later.
   */
  private readonly writeQueued = (): void => {
    const batch = this.queued;
    this.queued = [];
    for (const q of batch) {
      try {
        this.nc.publish(q.subject, q.data, { reply: this.prefix + q.token, headers: q.headers });
      } catch (err) {
        // A closed or draining connection throws synchronously: fail that publish, not the batch.
        const waiter = this.waiters.get(q.token);
        this.waiters.delete(q.token);
        waiter?.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };

  /** Refuses new publishes, waits for the outstanding ones to be acked or time out, then stops listening. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.waiters.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      clearInterval(this.sweeper);
      if (!this.nc.isClosed()) this.sub.unsubscribe();
    })();
    return this.closing;
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const waiter = this.waiters.get(token);
    if (waiter === undefined) return; // timed out already
    this.waiters.delete(token);
    if (msg.data.length === 0) {
      // A status-only reply: 503 means no stream listens on the subject.
      const code = msg.headers?.code ?? 0;
      waiter.reject(new JetStreamPublishError(code === 503 ? 'no responders' : `empty reply (status ${code})`, code === 503));
      return;
    }
    let reply: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      reply = JSON.parse(td.decode(msg.data)) as typeof reply;
    } catch {
      waiter.reject(new JetStreamPublishError('unparsable publish ack', false));
      return;
    }
    if (reply.error !== undefined || typeof reply.stream !== 'string' || reply.stream === '') {
      const e = reply.error;
      const code = e?.err_code ?? 0;
      waiter.reject(new JetStreamPublishError(`publish rejected: ${e?.description ?? 'invalid ack'} (${code || (e?.code ?? 0)})`, false, code));
      return;
    }
    waiter.resolve({ stream: reply.stream, seq: reply.seq ?? 0, duplicate: reply.duplicate === true });
  }

  private sweep(): void {
    if (this.waiters.size === 0) return;
    const now = Date.now();
    for (const [token, waiter] of this.waiters) {
      if (waiter.deadline > now) continue;
      this.waiters.delete(token);
      waiter.reject(new JetStreamPublishError(`timeout: no publish ack within ${this.timeoutMs} ms`, true));
    }
  }

  private failAll(err: Error): void {
    const failed = err instanceof JetStreamPublishError ? err : new JetStreamPublishError(String(err), true);
    for (const waiter of this.waiters.values()) waiter.reject(failed);
    this.waiters.clear();
  }
}
