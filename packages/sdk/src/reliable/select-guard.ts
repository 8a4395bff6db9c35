/**
 * The receiver's idempotency guard for its `idempotency` option (ADR 0052, 0053): the status
 * record or a separate dedupe store (both with their leases renewed while handlers run, ADR
 * 0027), or the PostgreSQL inbox.
 */
import type { Logger } from 'pino';
import { dedupeGuard } from './dedupe-guard.js';
import type { IdempotencyGuard } from './idempotency-guard.js';
import { inboxGuard } from './inbox/inbox-guard.js';
import type { MessageStatusStore } from './message-status.js';
import type { ResolvedReceiverOptions } from './receiver-options.js';
import { reliableMetrics } from './reliable-metrics.js';
import { statusRecordGuard } from './status-record-guard.js';

/** @param serviceName the receiver's service (its consumer reads only that service's calls): the metrics' label. */
export function selectGuard(options: ResolvedReceiverOptions, serviceName: string, status: MessageStatusStore, log: Logger): IdempotencyGuard {
  const idem = options.idempotency;
  if ('pool' in idem) return inboxGuard(idem.pool, options.responseTtlMs);
  // Leases are renewed from the receiver's in-flight sweep (ADR 0027); a loss is logged and counted.
  const leaseLost = reliableMetrics(options.registry).leaseLost.bind({ service_name: serviceName });
  const renewal = {
    // The one source of the lease's length: the guard claims and renews with it (never per message).
    leaseMs: options.schedule.ackTimeoutMs,
    onLeaseLost: (key: string) => {
      leaseLost.inc();
      log.warn({ event: 'dedupe_lease_lost', key }, 'dedupe lease lost (found by a renewal or by the run\'s own write at its end); another copy may run or have run beside it');
    },
    onError: (err: unknown, what: string) => log.warn({ err }, `${what} failed`),
  };
  if (!('store' in idem)) return statusRecordGuard(status, options.statusTtlMs, renewal);
  return dedupeGuard({ store: idem.store, responseTtlMs: options.responseTtlMs, ...renewal });
}
