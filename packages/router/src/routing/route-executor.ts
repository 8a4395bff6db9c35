/**
 * The terminal stage of the routing pipeline: choose a healthy instance, forward the caller's
 * bytes to its inbox, and fail over to a *different* instance on a timeout or a missing
 * responder (RT-2, RT-4). An answer — result or error — ends the call.
 */
import { AegisError, instanceInboxSubject, type InstanceRecord } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import { AttemptFailed, type ReplyMux } from '@aegis-ipc/sdk';
import { attemptBudget, attemptErrorType, shouldFailOver, type FailoverLimits } from './failover-plan.js';
import { assertHopAllowed } from './loop-guard.js';
import { AttemptHeaders } from './attempt-headers.js';
import type { InstanceFailures } from './instance-failures.js';
import type { RoutingStrategy } from './strategies/index.js';
import { refused, type AttemptRecord, type RouteHandler, type RouteOutcome } from './route-outcome.js';
import { replyErrorCode } from './reply-peek.js';

export interface RouteExecutorOptions extends FailoverLimits {
  readonly totalTimeoutMs: number;
  readonly maxHops: number;
  readonly registry: Registry;
  readonly strategy: RoutingStrategy;
  readonly mux: ReplyMux;
  readonly failures: InstanceFailures;
  readonly logger: Logger;
  /** An instance was chosen (for the selection metric and the distribution view). */
  readonly onSelected: (serviceName: string, instanceId: string) => void;
  /** A call fails over to another instance. */
  readonly onRetry: (serviceName: string) => void;
}

export function createRouteExecutor(options: RouteExecutorOptions): RouteHandler {
  const { registry, strategy, mux, failures, logger } = options;
  /** Last instance chosen per service: round robin continues after it (pure strategies). */
  const cursors = new Map<string, string>();
  const headers = new AttemptHeaders();

  return async function execute(input): Promise<RouteOutcome> {
    const { serviceName, traceId } = input;
    try {
      assertHopAllowed(input.hops, input.path, options.maxHops, serviceName, traceId);
    } catch (err) {
      return refused(err as AegisError, strategy.name);
    }
    let considered: readonly InstanceRecord[] = failures.filter(registry.online(serviceName), Date.now());
    if (considered.length === 0) {
      return refused(
        new AegisError('ROUTE_NO_INSTANCE', `no healthy instance of "${serviceName}"`, { details: { service_name: serviceName, trace_id: traceId } }),
        strategy.name,
        considered,
      );
    }
    const budget = input.timeoutMs === undefined ? options.totalTimeoutMs : Math.min(options.totalTimeoutMs, input.timeoutMs);
    const deadline = input.receivedAt + budget;
    const attempts: AttemptRecord[] = [];
    let tried: Set<string> | undefined;

    for (;;) {
      const chosen = strategy.select(considered, { serviceName, resourceId: input.resourceId, previous: cursors.get(serviceName), exclude: tried });
      const remaining = deadline - performance.now();
      if (attempts.length > 0 && !shouldFailOver(options, attempts.length, remaining, chosen !== undefined)) break;
      if (chosen === undefined) break;
      const instanceId = chosen.instance_id;
      cursors.set(serviceName, instanceId);
      options.onSelected(serviceName, instanceId);
      if (attempts.length > 0) options.onRetry(serviceName);

      const timeoutMs = Math.max(1, attemptBudget(options, remaining));
      const h = headers.build(input, chosen, attempts.length + 1, timeoutMs);

      const started = performance.now();
      try {
        const reply = await mux.request(instanceInboxSubject(instanceId), input.data, h, timeoutMs);
        failures.succeeded(instanceId);
        const code = replyErrorCode(reply.data);
        // Records built field by field: a conditional spread is a slow object clone in V8.
        const record: AttemptRecord =
          code === undefined
            ? { attempt: attempts.length + 1, instance_id: instanceId, outcome: 'answered', duration_ms: round(performance.now() - started), timeout_ms: timeoutMs }
            : { attempt: attempts.length + 1, instance_id: instanceId, outcome: 'error_reply', error_type: code, duration_ms: round(performance.now() - started), timeout_ms: timeoutMs };
        attempts.push(record);
        return { kind: 'answered', data: reply.data, instanceId, replyErrorCode: code, attempts, considered, strategy: strategy.name };
      } catch (err) {
        if (!(err instanceof AttemptFailed)) throw err;
        const duration = round(performance.now() - started);
        attempts.push({ attempt: attempts.length + 1, instance_id: instanceId, outcome: err.failure, error_type: attemptErrorType(err.failure), duration_ms: duration, timeout_ms: timeoutMs });
        logger.warn({ event: 'route_attempt_failed', trace_id: traceId, message_id: input.messageId, service_name: serviceName, method: input.method, instance_id: instanceId, attempt: attempts.length, failure: err.failure, duration_ms: duration }, `attempt ${attempts.length} on ${instanceId} failed: ${err.failure}`);
        failures.failed(instanceId, err.failure, Date.now());
        (tried ??= new Set()).add(instanceId);
        // Instances may have left or been quarantined while we waited.
        considered = failures.filter(registry.online(serviceName), Date.now());
      }
    }
    return { kind: 'failed', error: allFailed(serviceName, traceId, attempts), attempts, considered, strategy: strategy.name };
  };
}

function allFailed(serviceName: string, traceId: string, attempts: readonly AttemptRecord[]): AegisError {
  const only = attempts[0] as AttemptRecord;
  if (attempts.length === 1 && only.outcome === 'timeout') {
    return new AegisError('ROUTE_INSTANCE_TIMEOUT', `instance ${only.instance_id} of "${serviceName}" did not answer within ${only.timeout_ms} ms`, {
      details: { instance_id: only.instance_id, timeout_ms: only.timeout_ms, trace_id: traceId },
    });
  }
  const list = attempts.map((a) => ({ instance_id: a.instance_id, error_type: a.error_type as 'ROUTE_INSTANCE_TIMEOUT', duration_ms: a.duration_ms }));
  return new AegisError('ROUTE_ALL_FAILED', `all ${attempts.length} attempt(s) to "${serviceName}" failed: ${attempts.map((a) => `${a.instance_id} ${a.outcome}`).join(', ')}`, {
    details: { service_name: serviceName, attempts: list, trace_id: traceId },
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
