/**
 * One reply subscription for many requests (instead of a subscription or a nats.js `request()`
 * per request): each attempt gets its own token under a private inbox, a correlation entry and a
 * deadline (one timer per distinct timeout, not per request: {@link DeadlineTimers}). An attempt that timed out is forgotten, so a late reply from a slow or paused responder
 * finds no entry and is dropped — it can never answer another request.
 *
 * Used by the router to forward calls and by the SDK's `client.call()`: nats.js `request()`
 * builds an Error object (a stack capture) for every request, even one that succeeds, which
 * profiling showed to be a large part of a caller's CPU per call (ADR 0031).
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { AegisError } from '@aegis-ipc/protocol';
import { DeadlineEntry, DeadlineTimers } from './deadline-timers.js';
import { guardedCallback } from './guarded-callback.js';

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

class Pending extends DeadlineEntry {
  constructor(
    readonly token: string,
    readonly resolve: (msg: Msg) => void,
    readonly reject: (err: Error) => void,
  ) {
    super();
  }
}

export class ReplyMux {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  // One timer per distinct timeout instead of one per request (see DeadlineTimers).
  readonly #timers = new DeadlineTimers<Pending>((p) => {
    if (this.#pending.delete(p.token)) p.reject(new AttemptFailed('timeout'));
  });
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
      callback: guardedCallback((err, msg) => {
        if (err === null) this.#onReply(msg);
      }),
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
      const pending = new Pending(token, resolve, reject);
      this.#timers.add(pending, timeoutMs);
      this.#pending.set(token, pending);
      try {
        this.#nc.publish(subject, data, headers === undefined ? { reply: this.#prefix + token } : { reply: this.#prefix + token, headers });
      } catch (err) {
        this.#timers.remove(pending);
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
    this.#timers.clear();
    for (const [token, p] of this.#pending) {
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
    this.#timers.remove(p);
    // The server answers a publish nobody listens to with an empty 503 status message.
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new AttemptFailed('no_responders'));
    else p.resolve(msg);
  }
}
