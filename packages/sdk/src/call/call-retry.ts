/**
 * `client.call()` with a `retry` option (RT-6, ADR 0032): the routed call sent again after a
 * failure {@link retryDelayMs} allows, within one budget. `timeoutMs` is the whole call's: each
 * attempt is sent with what is left of it, at most `attemptTimeoutMs` (so the router's failover
 * keeps within it too, and an idempotent call that timed out has budget left to try again), a
 * backoff never sleeps past it, and every attempt carries the call's one trace id, so
 * `aegis trace <id>` lists each routed attempt.
 *
 * Only this path pays for retrying: a call without `retry` never reaches this module.
 */
import type { Logger } from 'pino';
import { AegisError, newTraceId } from '@aegis-ipc/protocol';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { callLineage, lineageOf } from '../instance/call-context.js';
import { endSpanWhenSettled, tracer, tracingActive } from '../tracing/index.js';
import { resolveCallRetry, resolveCallTimeout, type CallOptions, type CallRetryOptions } from './call-options.js';
import { retryDelayMs } from './call-retry-plan.js';

/** Sends the call once with these options (the budget left, the call's trace id). */
export type SendAttempt<T> = (options: CallOptions) => Promise<T>;

/** The call being retried. */
export interface RetriedCallInput {
  readonly serviceName: string;
  readonly method: string;
  readonly options: CallOptions & { readonly retry: CallRetryOptions };
  /** Where `call_retry` lines go (debug); none without one. */
  readonly logger?: Logger | undefined;
}

/**
 * Runs `send` until an attempt succeeds or {@link retryDelayMs} says stop.
 * @throws the last attempt's error with `callAttempts` set; `CANCELLED` (also with
 * `callAttempts`) when `signal` aborts a wait; `CONFIG_INVALID` for a bad `retry` or `timeoutMs`.
 */
export function callWithRetry<T>(input: RetriedCallInput, send: SendAttempt<T>): Promise<T> {
  const { serviceName, method, options } = input;
  const budgetMs = resolveCallTimeout(options);
  const policy = resolveCallRetry(options.retry, budgetMs);
  /** An attempt's timeout: what is left of the budget, at most `attemptTimeoutMs`. */
  const attemptTimeout = (leftMs: number) => (policy.attemptTimeoutMs === undefined ? leftMs : Math.min(leftMs, policy.attemptTimeoutMs));
  const deadline = performance.now() + budgetMs;
  const lineage = options.parent === undefined ? callLineage.getStore() : lineageOf(options.parent);
  // One span for the whole call, each attempt's span its child: with tracing on, every attempt
  // stays in the one trace whose id is the call's trace id, as a call without retry is.
  const span = tracingActive()
    ? tracer().startSpan('ipc.client.call', { kind: SpanKind.CLIENT, attributes: { 'ipc.service_name': serviceName, 'ipc.method': method } })
    : undefined;
  const traceId = options.traceId ?? lineage?.traceId ?? span?.spanContext().traceId ?? newTraceId();
  let attemptsMade = 0;

  const attempt = (timeoutMs: number): Promise<T> => {
    attemptsMade++;
    const attemptOptions: CallOptions = { ...options, timeoutMs, traceId };
    return span === undefined ? send(attemptOptions) : context.with(trace.setSpan(context.active(), span), () => send(attemptOptions));
  };

  const run = async (): Promise<T> => {
    for (let timeoutMs = attemptTimeout(budgetMs); ; ) {
      try {
        return await attempt(timeoutMs);
      } catch (err) {
        // Not an AegisError: thrown before sending (the signal's own reason), passed on as is.
        if (!(err instanceof AegisError)) throw err;
        const error = err as AegisError;
        const delayMs = retryDelayMs(error, { serviceName, traceId, attemptsMade, remainingMs: deadline - performance.now() }, policy);
        if (delayMs === undefined) throw withCallAttempts(error, attemptsMade);
        if (input.logger?.isLevelEnabled('debug') === true) {
          input.logger.debug(
            { event: 'call_retry', trace_id: traceId, service_name: serviceName, method, attempt: attemptsMade, error_type: error.code, delay_ms: Math.round(delayMs) },
            `call ${serviceName}.${method} attempt ${attemptsMade} failed with ${error.code}; retrying in ${Math.round(delayMs)} ms`,
          );
        }
        await backoff(delayMs, options.signal, attemptsMade);
        // A late timer may have eaten the last milliseconds: then the last error is the answer.
        const leftMs = Math.floor(deadline - performance.now());
        if (leftMs < 1) throw withCallAttempts(error, attemptsMade);
        timeoutMs = attemptTimeout(leftMs);
      }
    }
  };

  if (span === undefined) return run();
  span.setAttribute('ipc.trace_id', traceId);
  return endSpanWhenSettled(span, run().finally(() => span.setAttribute('ipc.call_attempts', attemptsMade)));
}

/**
 * `error` as the call's answer: the same code, message, details, cause and stack, plus how many
 * attempts the call made (a property, not a detail: see {@link AegisError.callAttempts}).
 */
function withCallAttempts(error: AegisError, attempts: number): AegisError {
  const counted = new AegisError(error.code, error.message, { details: error.details, cause: error.cause, retryable: error.retryable, callAttempts: attempts });
  counted.stack = error.stack;
  return counted;
}

/** Waits `ms`; rejects with `CANCELLED` at once when `signal` aborts. */
function backoff(ms: number, signal: AbortSignal | undefined, attemptsMade: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cancelled = () => new AegisError('CANCELLED', 'the call was aborted by its signal', { cause: signal?.reason, callAttempts: attemptsMade });
    if (signal?.aborted === true) {
      reject(cancelled());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
