/**
 * Applies the per-service circuit breaker (RT-5) around routing: refuses calls while the breaker
 * is open — answering with the configured fallback when there is one, `ROUTE_CIRCUIT_OPEN`
 * otherwise — lets one probe through when half-open, and feeds every attempt's outcome back.
 */
import { AegisError, encode } from '@aegis-ipc/protocol';
import type { ServiceBreakers } from './service-breakers.js';
import type { BreakerPermit } from './circuit-breaker.js';
import type { RouteInterceptor, RouteOutcome } from './route-outcome.js';

export interface BreakerInterceptorOptions {
  readonly breakers: ServiceBreakers;
  /** Fallback result per service, returned while its breaker is open. */
  readonly fallbacks: Readonly<Record<string, unknown>>;
  readonly strategy: string;
}

export function breakerInterceptor(options: BreakerInterceptorOptions): RouteInterceptor {
  const { breakers } = options;
  // Encoded once: the fallback reply is the same bytes every time.
  const fallbackReplies = new Map<string, Uint8Array>();
  for (const [service, value] of Object.entries(options.fallbacks)) fallbackReplies.set(service, encode({ result: value }));

  /** Feeds the call's attempts back into the service's breaker. */
  const settle = (serviceName: string, permit: BreakerPermit, outcome: RouteOutcome): RouteOutcome => {
    let failedAttempts = 0;
    let after = 0;
    for (const attempt of outcome.attempts) {
      if (attempt.outcome !== 'timeout' && attempt.outcome !== 'no_responders') continue;
      failedAttempts++;
      if (after === 0) after = Date.now();
      // `considered` is the routable set after the call (quarantined instances excluded), so a
      // service whose only routable instances all failed opens even if a quarantined one is ONLINE.
      breakers.get(serviceName).instanceFailed(attempt.instance_id, outcome.considered, after);
    }
    const current = breakers.peek(serviceName);
    if (current !== undefined) {
      if (outcome.kind === 'answered') current.succeeded();
      else if (failedAttempts > 0) current.callFailed(permit, after);
      else current.released(permit);
    }
    return outcome;
  };

  // Not an async function: one `then` per call instead of an async frame plus an await (ADR 0031
  // round 4). Never throws synchronously: a refusal is a resolved outcome like any other.
  return (input, next) => {
    const breaker = breakers.peek(input.serviceName);
    // Breakers exist only for services that had a failure: the usual call reads no clock here.
    let permit: BreakerPermit = 'pass';
    if (breaker !== undefined) {
      const now = Date.now();
      permit = breaker.acquire(now);
      if (permit === 'reject') {
        const fallback = fallbackReplies.get(input.serviceName);
        if (fallback !== undefined) return Promise.resolve<RouteOutcome>({ kind: 'fallback', data: fallback, attempts: [], considered: [], strategy: options.strategy });
        const retryAfterMs = breaker.retryAfterMs(now);
        const error = new AegisError('ROUTE_CIRCUIT_OPEN', `the circuit breaker of "${input.serviceName}" is open; retry in ${retryAfterMs} ms`, {
          details: { service_name: input.serviceName, retry_after_ms: retryAfterMs, trace_id: input.traceId },
        });
        return Promise.resolve<RouteOutcome>({ kind: 'failed', error, attempts: [], considered: [], strategy: options.strategy });
      }
    }
    return next(input).then((outcome) => settle(input.serviceName, permit, outcome));
  };
}
