/**
 * Keeps a running handler's call from being handed out again (ADR 0027, "exactly-once calls").
 * Every third of the ack timeout, each delivery that has run for at least a third of it tells the
 * broker it is still being worked on (`working()`, JetStream's +WIP: its ack wait starts again),
 * then the idempotency guard renews the leases of the handlers still running
 * ({@link IdempotencyGuard.sweep}). One timer per receiver, not one per message — as the event
 * subscriptions do. Without it, a handler slower than the ack timeout was redelivered while it
 * ran, and the redelivery claimed the lapsed lease and ran the handler a second time.
 *
 * A crashed instance sends nothing, so its deliveries still come back after the ack wait; a
 * handler that never returns now holds its message until its process stops.
 */
import type { JsMsg } from '@nats-io/jetstream';

export class InFlightSweep {
  /** Deliveries being processed, with when they arrived. */
  readonly #running = new Map<JsMsg, number>();
  readonly #timer: ReturnType<typeof setInterval>;

  /**
   * @param ackTimeoutMs the consumer's shortest ack wait (a delivery's first): `working()` is sent
   * well inside it.
   * @param renew the guard's lease renewal, after the `working()` calls of each tick.
   */
  constructor(ackTimeoutMs: number, renew: ((now: number) => void) | undefined) {
    const third = Math.max(1, Math.floor(ackTimeoutMs / 3));
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const [msg, started] of this.#running) if (now - started >= third) msg.working();
      renew?.(now);
    }, third);
    this.#timer.unref();
  }

  /** Runs `task` for `msg`, which is swept until the task settles. */
  track(msg: JsMsg, task: () => Promise<void>): Promise<void> {
    this.#running.set(msg, Date.now());
    return task().finally(() => this.#running.delete(msg));
  }

  /** Stops sweeping; call once no handler runs any more. */
  close(): void {
    clearInterval(this.#timer);
  }
}
