/** Which failed calls `client.call({ retry })` sends again, and after how long (ADR 0032). */
import { describe, expect, it } from 'vitest';
import { AegisError, type ErrorCode } from '@aegis-ipc/protocol';
import { AttemptFailed } from '../../src/transport/reply-mux.js';
import { MIN_RETRY_ATTEMPT_MS, retryDelayMs, retryVerdict, type RetryState } from '../../src/call/call-retry-plan.js';
import { DEFAULT_CALL_RETRY, resolveCallRetry, type ResolvedCallRetry } from '../../src/call/call-options.js';

const call = { serviceName: 'billing', traceId: 'a'.repeat(32) };
const noResponders = new AegisError('CONNECTION_FAILED', 'no responder', { cause: new AttemptFailed('no_responders') });
const noInstance = new AegisError('ROUTE_NO_INSTANCE', 'none', { details: { service_name: 'billing', trace_id: call.traceId } });
const breakerOpen = (retryAfterMs: number) =>
  new AegisError('ROUTE_CIRCUIT_OPEN', 'open', { details: { service_name: 'billing', retry_after_ms: retryAfterMs, trace_id: call.traceId } });
const allFailed = (...types: Array<'ROUTE_INSTANCE_TIMEOUT' | 'CONNECTION_FAILED'>) =>
  new AegisError('ROUTE_ALL_FAILED', 'all failed', {
    details: { service_name: 'billing', trace_id: call.traceId, attempts: types.map((t, i) => ({ instance_id: `b-${i}`, error_type: t, duration_ms: 1 })) },
  });

describe('retryVerdict', () => {
  it('retries what certainly ran no handler', () => {
    expect(retryVerdict(noResponders, call)).toBe('retry');
    expect(retryVerdict(noInstance, call)).toBe('retry');
    expect(retryVerdict(breakerOpen(100), call)).toBe('retry');
    // every instance attempt found no responder on its inbox: nothing was delivered
    expect(retryVerdict(allFailed('CONNECTION_FAILED', 'CONNECTION_FAILED'), call)).toBe('retry');
  });

  it('retries what may have run only when idempotent', () => {
    expect(retryVerdict(new AegisError('TIMEOUT', 'late', { cause: new AttemptFailed('timeout') }), call)).toBe('retry_if_idempotent');
    expect(retryVerdict(new AegisError('ROUTE_INSTANCE_TIMEOUT', 'late', { details: { instance_id: 'b-0', timeout_ms: 5, trace_id: call.traceId } }), call)).toBe('retry_if_idempotent');
    expect(retryVerdict(allFailed('ROUTE_INSTANCE_TIMEOUT', 'CONNECTION_FAILED'), call)).toBe('retry_if_idempotent');
    expect(retryVerdict(new AegisError('ROUTE_ALL_FAILED', 'no details'), call)).toBe('retry_if_idempotent');
  });

  it('treats the same codes relayed by a handler from a call of its own as "may have run"', () => {
    // a CONNECTION_FAILED that came in a reply (no AttemptFailed cause): the handler ran
    expect(retryVerdict(new AegisError('CONNECTION_FAILED', 'relayed'), call)).toBe('retry_if_idempotent');
    // the router's refusal of another service, or of this service in another trace
    expect(retryVerdict(new AegisError('ROUTE_NO_INSTANCE', 'nested', { details: { service_name: 'ledger', trace_id: call.traceId } }), call)).toBe('retry_if_idempotent');
    expect(retryVerdict(new AegisError('ROUTE_NO_INSTANCE', 'nested', { details: { service_name: 'billing', trace_id: 'b'.repeat(32) } }), call)).toBe('retry_if_idempotent');
    expect(retryVerdict(new AegisError('ROUTE_CIRCUIT_OPEN', 'no details'), call)).toBe('retry_if_idempotent');
  });

  it('never retries an answer, a bad request or the end of the call', () => {
    const final: ErrorCode[] = ['APPLICATION_ERROR', 'VALIDATION_FAILED', 'INVALID_NAME', 'METHOD_NOT_FOUND', 'ROUTE_LOOP_DETECTED', 'CANCELLED', 'PAYLOAD_TOO_LARGE', 'CLOSED', 'DECODE_FAILED', 'INTERNAL', 'CONFIG_INVALID'];
    for (const code of final) expect(retryVerdict(new AegisError(code, code), call), code).toBe('final');
  });
});

describe('retryDelayMs', () => {
  const policy = (overrides: Partial<ResolvedCallRetry> = {}): ResolvedCallRetry => ({ ...DEFAULT_CALL_RETRY, ...overrides });
  const state = (attemptsMade: number, remainingMs = 10_000): RetryState => ({ ...call, attemptsMade, remainingMs });
  const top = () => 0.999_999;
  const bottom = () => 0;

  it('backs off exponentially with jitter in [half, full), capped at maxDelayMs', () => {
    const p = policy({ retries: 10, initialDelayMs: 100, maxDelayMs: 1_000 });
    expect(retryDelayMs(noInstance, state(1), p, bottom)).toBe(50);
    expect(retryDelayMs(noInstance, state(1), p, top)).toBeCloseTo(100);
    expect(retryDelayMs(noInstance, state(2), p, bottom)).toBe(100);
    expect(retryDelayMs(noInstance, state(3), p, bottom)).toBe(200);
    expect(retryDelayMs(noInstance, state(6), p, top)).toBeCloseTo(1_000);
    expect(retryDelayMs(noInstance, state(6), p, bottom)).toBe(500);
  });

  it('stops after `retries` retries', () => {
    expect(retryDelayMs(noInstance, state(2), policy({ retries: 2 }), bottom)).toBe(100);
    expect(retryDelayMs(noInstance, state(3), policy({ retries: 2 }), bottom)).toBeUndefined();
    expect(retryDelayMs(noInstance, state(1), policy({ retries: 0 }), bottom)).toBeUndefined();
  });

  it('retries timeouts only when idempotent, and never a final error', () => {
    const timeout = new AegisError('ROUTE_INSTANCE_TIMEOUT', 'late', { details: { instance_id: 'b-0', timeout_ms: 5 } });
    expect(retryDelayMs(timeout, state(1), policy(), bottom)).toBeUndefined();
    expect(retryDelayMs(timeout, state(1), policy({ idempotent: true }), bottom)).toBe(50);
    expect(retryDelayMs(new AegisError('APPLICATION_ERROR', 'threw'), state(1), policy({ idempotent: true }), bottom)).toBeUndefined();
  });

  it('never sleeps past the budget and leaves the next attempt at least MIN_RETRY_ATTEMPT_MS', () => {
    // 60 ms left: a 100 ms backoff is cut to leave 10 ms for the attempt
    expect(retryDelayMs(noInstance, state(1, 60), policy(), top)).toBe(60 - MIN_RETRY_ATTEMPT_MS);
    expect(retryDelayMs(noInstance, state(1, MIN_RETRY_ATTEMPT_MS), policy(), top)).toBe(0);
    expect(retryDelayMs(noInstance, state(1, MIN_RETRY_ATTEMPT_MS - 1), policy(), top)).toBeUndefined();
    expect(retryDelayMs(noInstance, state(1, -5), policy(), top)).toBeUndefined();
  });

  it("waits at least an open breaker's retry_after_ms, and fails at once when that does not fit", () => {
    expect(retryDelayMs(breakerOpen(400), state(1), policy(), bottom)).toBe(400);
    // a half-open breaker refusing (retry_after 0): the plain backoff
    expect(retryDelayMs(breakerOpen(0), state(1), policy(), bottom)).toBe(50);
    expect(retryDelayMs(breakerOpen(400), state(1, 400 + MIN_RETRY_ATTEMPT_MS), policy(), bottom)).toBe(400);
    expect(retryDelayMs(breakerOpen(400), state(1, 400 + MIN_RETRY_ATTEMPT_MS - 1), policy(), bottom)).toBeUndefined();
    expect(retryDelayMs(breakerOpen(30_000), state(1, 16_000), policy(), bottom)).toBeUndefined();
  });
});

describe('resolveCallRetry', () => {
  it('fills the defaults', () => {
    expect(resolveCallRetry({}, 16_000)).toEqual({ retries: 2, initialDelayMs: 100, maxDelayMs: 1_000, idempotent: false, attemptTimeoutMs: undefined });
    expect(resolveCallRetry({ retries: 0, idempotent: true }, 16_000)).toMatchObject({ retries: 0, idempotent: true });
    // a longer first delay alone raises the default cap instead of contradicting it
    expect(resolveCallRetry({ initialDelayMs: 2_000 }, 16_000)).toMatchObject({ initialDelayMs: 2_000, maxDelayMs: 2_000 });
  });

  it('gives each attempt of an idempotent call a share of the budget, so a timeout leaves room to retry', () => {
    expect(resolveCallRetry({ idempotent: true }, 16_000).attemptTimeoutMs).toBe(5_333);
    expect(resolveCallRetry({ idempotent: true, retries: 0 }, 16_000).attemptTimeoutMs).toBe(16_000);
    expect(resolveCallRetry({ idempotent: true, attemptTimeoutMs: 2_000 }, 16_000).attemptTimeoutMs).toBe(2_000);
    // not idempotent: a timeout is final anyway, and one attempt keeps the router's whole failover
    expect(resolveCallRetry({ retries: 5 }, 16_000).attemptTimeoutMs).toBeUndefined();
  });

  it('refuses what cannot be meant with CONFIG_INVALID', () => {
    const bad = [{ retries: -1 }, { retries: 1.5 }, { retries: Number.NaN }, { initialDelayMs: 0 }, { initialDelayMs: -10 }, { maxDelayMs: 0 }, { maxDelayMs: Number.POSITIVE_INFINITY }, { initialDelayMs: 500, maxDelayMs: 400 }, { idempotent: 'yes' as unknown as boolean }, { attemptTimeoutMs: 0 }, { attemptTimeoutMs: Number.NaN }];
    for (const retry of bad) {
      let caught: unknown;
      try {
        resolveCallRetry(retry, 16_000);
      } catch (err) {
        caught = err;
      }
      expect((caught as AegisError | undefined)?.code, JSON.stringify(retry)).toBe('CONFIG_INVALID');
    }
  });
});
