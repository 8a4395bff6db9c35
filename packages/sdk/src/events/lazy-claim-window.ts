/**
 * When the first delivery of a QoS 2 event may run before its id is claimed (ADR 0026).
 *
 * An id the SDK made for a publish (`Ipc-Made-Id`) is known to nobody else until that publish
 * returns, and every publish of an id carries it as `Nats-Msg-Id`, so the stream refuses a
 * second copy until its duplicate window `W` has passed; a redelivery of the same stream message
 * cannot come before `ack_wait` has passed since it was first delivered (hence since it was
 * stored). So, with `L = min(W, ack_wait) / 2`, the first delivery of such an event may run
 * unclaimed while it is younger than `L`: by then it has finished (its completion record sent)
 * or claimed the id late, and no other copy can reach the store before `2L`. Every other
 * delivery claims first. `W` and `ack_wait` are read from the stream and consumer as the server
 * has them (another process may have changed them), and read again every `refreshMs`.
 */

/** The two server settings the window depends on, in ms. */
export interface ClaimWindowSettings {
  readonly duplicateWindowMs: number;
  readonly ackWaitMs: number;
}

/** How often the settings are read again. @default 30 s */
export const CLAIM_WINDOW_REFRESH_MS = 30_000;

/**
 * Graces are rounded down to this step. Node keeps one timer list per distinct duration, so
 * graces differing by a millisecond each would cost a list (and a priority-queue insert) per
 * delivery; rounded, a burst's late-claim timers share a few lists. Down is the safe way.
 */
const GRACE_STEP_MS = 100;

export class LazyClaimWindow {
  /** `L` in ms; 0 while unknown (every delivery then claims first). */
  private limitMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => Promise<ClaimWindowSettings>,
    /** `L` to wait for on replays while the server's settings are unknown (from the options). */
    private readonly fallbackLimitMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly refreshMs = CLAIM_WINDOW_REFRESH_MS,
  ) {}

  /** Reads the settings once now, then every `refreshMs` (an unref'd timer; stop with close()). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** The current `L` (0: claim first). */
  get limit(): number {
    return this.limitMs;
  }

  /**
   * How long this delivery may run before it must hold the id's lease; 0 means claim first.
   * `storedAtNs` is the stream's stored time from the ack subject (Unix ns as digits). A stored
   * time more than `L/2` ahead of this clock means the clocks disagree too much to rely on it.
   */
  graceMs(madeId: boolean, deliveryCount: number, storedAtNs: string, now = Date.now()): number {
    const limit = this.limitMs;
    if (!madeId || deliveryCount !== 1 || limit <= 0 || storedAtNs.length <= 6) return 0;
    const age = now - Number(storedAtNs.slice(0, -6));
    return age >= -limit / 2 && age < limit ? Math.floor((limit - age) / GRACE_STEP_MS) * GRACE_STEP_MS : 0;
  }

  /**
   * How long a replayed dead letter whose original was stored at `firstStoredAtMs` must wait
   * before claiming: until `2L` after it, when any unclaimed run of the original in another
   * group has claimed or finished. 0 when there is nothing to wait for; never more than `2L`
   * (a stored time ahead of this clock, or a forged header, must not park an event for long).
   */
  waitMs(firstStoredAtMs: number, now = Date.now()): number {
    if (firstStoredAtMs <= 0) return 0;
    const limit = Math.max(this.limitMs, this.fallbackLimitMs);
    return Math.min(2 * limit, Math.max(0, firstStoredAtMs + 2 * limit - now));
  }

  private async refresh(): Promise<void> {
    try {
      const s = await this.read();
      const limit = Math.floor(Math.min(s.duplicateWindowMs, s.ackWaitMs) / 2);
      this.limitMs = Number.isFinite(limit) && limit > 0 ? limit : 0;
    } catch (err) {
      // Unknown settings: claim first until a read succeeds (never guess the window).
      this.limitMs = 0;
      this.onError(err);
    }
  }
}
