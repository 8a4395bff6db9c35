/**
 * Heartbeat liveness as this replica has seen it. Every replica subscribes to every heartbeat
 * (no queue group), so each can judge liveness on its own without coordination.
 */
export interface Sighting {
  /** `Date.now()` of the last heartbeat. */
  readonly at: number;
  readonly sessionId: string;
}

export class Liveness {
  readonly #seen = new Map<string, Sighting>();
  readonly #startedAt: number;
  readonly #timeoutMs: number;

  constructor(timeoutMs: number, now = Date.now()) {
    this.#timeoutMs = timeoutMs;
    this.#startedAt = now;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Records a heartbeat; returns the previous sighting. */
  saw(instanceId: string, sessionId: string, now = Date.now()): Sighting | undefined {
    const previous = this.#seen.get(instanceId);
    this.#seen.set(instanceId, { at: now, sessionId });
    return previous;
  }

  last(instanceId: string): Sighting | undefined {
    return this.#seen.get(instanceId);
  }

  forget(instanceId: string): void {
    this.#seen.delete(instanceId);
  }

  /**
   * True when `sessionId` of `instanceId` counts as alive: it heartbeated within the timeout, or
   * it (re)registered within the timeout (`since`), or this replica started too recently to
   * have seen a heartbeat yet (a restarted router must not evict live instances).
   */
  isAlive(instanceId: string, sessionId: string, since: number, now = Date.now()): boolean {
    const seen = this.#seen.get(instanceId);
    if (seen !== undefined && seen.sessionId === sessionId && now - seen.at <= this.#timeoutMs) return true;
    if (now - since <= this.#timeoutMs) return true;
    return seen === undefined && now - this.#startedAt <= this.#timeoutMs;
  }
}
