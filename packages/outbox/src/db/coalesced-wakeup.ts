/**
 * Wakes the relays after outbox writes have committed, with one NOTIFY for all the commits of a
 * moment instead of one inside each transaction (docs/adr/0013, round 3).
 *
 * The promise kept: every {@link CoalescedWakeup.request} is followed by a `send` that *starts*
 * after it — so a relay woken by that send claims with a snapshot that sees the commit behind
 * the request. Requests made while no send is due share the next one (scheduled with
 * `setImmediate`, so the commits a turn completes share it); requests made while a send is in
 * flight are not covered by it (it may have reached the server before their commit) and get one
 * more send after it. At most one send is in flight.
 *
 * A send that fails is reported to `onError` and not retried: the rows are committed and
 * PENDING, the next request or the relays' poll finds them. Only a wake-up can be late, never a
 * row lost (the relay claims by status, not by notification).
 */
export class CoalescedWakeup {
  private state: 'idle' | 'scheduled' | 'sending' = 'idle';
  /** A request arrived while a send was in flight. */
  private again = false;
  private settled: Promise<void> = Promise.resolve();
  private resolveSettled: (() => void) | undefined;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Call after a commit: a send that starts after this call will follow. */
  request(): void {
    if (this.state === 'sending') {
      this.again = true;
      return;
    }
    if (this.state === 'scheduled') return; // that send has not started: it covers this request
    this.schedule();
  }

  /** Resolves when no send is scheduled or in flight (before closing the connections). */
  idle(): Promise<void> {
    return this.settled;
  }

  private schedule(): void {
    if (this.state === 'idle') this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
    this.state = 'scheduled';
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.state = 'sending';
    this.again = false;
    this.send()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        if (this.again) {
          this.schedule();
          return;
        }
        this.state = 'idle';
        this.resolveSettled?.();
        this.resolveSettled = undefined;
      });
  }
}
