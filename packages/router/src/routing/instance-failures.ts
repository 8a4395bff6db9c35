/**
 * Per-instance failure accounting (RT-4: "an instance with 3 accumulated timeouts is marked
 * UNHEALTHY"), which also acts as the per-instance circuit breaker.
 *
 * Timeouts and missing responders count; any answer resets the count. At the threshold the
 * instance is reported UNHEALTHY (the health monitor writes it to the registry) and quarantined
 * by this router for `quarantineMs`: heartbeats of a process whose handlers hang would otherwise
 * bring it back ONLINE within a second. After the quarantine it is on probation — one more
 * failure quarantines it again.
 */
import type { AttemptFailure } from './failover-plan.js';

export interface InstanceFailuresOptions {
  readonly threshold: number;
  readonly quarantineMs: number;
  /** Called once per quarantine with a reason for the registry. */
  readonly onUnhealthy: (instanceId: string, reason: string) => void;
}

export class InstanceFailures {
  readonly #options: InstanceFailuresOptions;
  readonly #counts = new Map<string, number>();
  /** instance id → end of quarantine (ms since epoch). */
  readonly #quarantined = new Map<string, number>();

  constructor(options: InstanceFailuresOptions) {
    this.#options = options;
  }

  failed(instanceId: string, failure: AttemptFailure, now: number): void {
    const count = (this.#counts.get(instanceId) ?? 0) + 1;
    if (count < this.#options.threshold) {
      this.#counts.set(instanceId, count);
      return;
    }
    this.#counts.delete(instanceId);
    if (this.#quarantined.has(instanceId) && (this.#quarantined.get(instanceId) as number) > now) return;
    this.#quarantined.set(instanceId, now + this.#options.quarantineMs);
    this.#options.onUnhealthy(instanceId, `routing: ${count} ${failure === 'timeout' ? 'timeouts' : 'failed deliveries'} without an answer`);
  }

  succeeded(instanceId: string): void {
    if (this.#counts.size !== 0) this.#counts.delete(instanceId);
  }

  /**
   * Forgets everything about `instanceId`: a new process registered under that id (or the old
   * one left), so the failures of the previous session must not keep it out of rotation.
   */
  forget(instanceId: string): void {
    this.#counts.delete(instanceId);
    this.#quarantined.delete(instanceId);
  }

  /** True while `instanceId` is quarantined. */
  isQuarantined(instanceId: string, now: number): boolean {
    const until = this.#quarantined.get(instanceId);
    return until !== undefined && until > now;
  }

  /** `instances` without the quarantined ones (the same array when none is). */
  filter<I extends { readonly instance_id: string }>(instances: readonly I[], now: number): readonly I[] {
    if (this.#quarantined.size === 0) return instances;
    for (const [id, until] of this.#quarantined) {
      if (until <= now) {
        this.#quarantined.delete(id);
        // Probation: the next failure quarantines it again.
        this.#counts.set(id, this.#options.threshold - 1);
      }
    }
    if (this.#quarantined.size === 0) return instances;
    return instances.filter((i) => !this.#quarantined.has(i.instance_id));
  }

  /** Quarantined instance ids with the end of their quarantine. */
  quarantined(): Array<{ instance_id: string; until: string }> {
    return [...this.#quarantined].map(([id, until]) => ({ instance_id: id, until: new Date(until).toISOString() }));
  }
}
