/**
 * One reply subscription for many requests (instead of a subscription or a nats.js `request()`
 * per request): each attempt gets its own token under a private inbox, a correlation entry and a
 * timer. An attempt that timed out is forgotten, so a late reply from a slow or paused responder
 * finds no entry and is dropped — it can never answer another request.
 *
 * Used by the router to forward calls and by the SDK's `client.call()`: nats.js `request()`
 * builds an Error object (a stack capture) for every request, even one that succeeds, which
 * profiling showed to be a large part of a caller's CPU per call (ADR 0031).
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { AegisError } from '@aegis-ipc/protocol';

/** Why a request ended without an answer. */
export type AttemptFailure = 'timeout' | 'no_responders';

/** The reason an attempt ended without an answer. */
export class AttemptFailed extends Error {
  override readonly name = 'AttemptFailed';
  readonly failure: AttemptFailure;
  constructor(failure: AttemptFailure) {
    super(failure === 'timeout' ? 'the instance did not answer in time' : 'no responder on the instance inbox');
    this.failure = failure;
  }
}

interface Pending {
  readonly resolve: (msg: Msg) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class ReplyMux {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  #seq = 0;
  #sub: Subscription | undefined;
  #closed = false;
  /** Replies that arrived after their attempt ended (late or duplicate). */
  lateReplies = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#prefix = `${createInbox()}.`;
  }

  /** Subscribes to the reply inbox; `request()` does it on first use. */
  start(): void {
    if (this.#sub !== undefined) return;
    this.#sub = this.#nc.subscribe(`${this.#prefix}*`, {
      callback: (err, msg) => {
        if (err === null) this.#onReply(msg);
      },
    });
  }

  /** Attempts waiting for an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Publishes `data` to `subject` and resolves the reply.
   * @throws AttemptFailed `timeout` after `timeoutMs`, `no_responders` when nothing listens.
   */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    if (this.#closed) return Promise.reject(new AegisError('CLOSED', 'the connection is closing'));
    if (this.#sub === undefined) {
      try {
        this.start();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const token = (++this.#seq).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(token)) reject(new AttemptFailed('timeout'));
      }, timeoutMs);
      this.#pending.set(token, { resolve, reject, timer });
      try {
        this.#nc.publish(subject, data, headers === undefined ? { reply: this.#prefix + token } : { reply: this.#prefix + token, headers });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Stops listening; attempts still waiting fail with `CLOSED`. */
  close(): void {
    this.#closed = true;
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const [token, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(token);
      p.reject(new AegisError('CLOSED', 'the connection is closing'));
    }
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (p === undefined) {
      this.lateReplies++;
      return;
    }
    this.#pending.delete(token);
    clearTimeout(p.timer);
    // The server answers a publish nobody listens to with an empty 503 status message.
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new AttemptFailed('no_responders'));
    else p.resolve(msg);
  }
}
