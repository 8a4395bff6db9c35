import { describe, expect, it } from 'vitest';
import { MIN_ATTEMPT_MS, attemptBudget, attemptErrorType, shouldFailOver } from '../../src/routing/failover-plan.js';
import { MAX_PATH_LENGTH, assertHopAllowed, extendPath, parsePath } from '../../src/routing/loop-guard.js';
import { InstanceFailures } from '../../src/routing/instance-failures.js';
import { replyErrorCode } from '../../src/routing/reply-peek.js';
import { AegisError, encode, errorReply } from '@aegis-ipc/protocol';

const limits = { maxAttempts: 3, attemptTimeoutMs: 5_000 };

describe('failover planning', () => {
  it('gives each attempt 5 s, cut to what is left of the 15 s budget', () => {
    expect(attemptBudget(limits, 15_000)).toBe(5_000);
    expect(attemptBudget(limits, 4_000)).toBe(4_000);
    expect(attemptBudget(limits, -3)).toBe(0);
  });

  it('fails over at most to a third instance, while time and candidates remain', () => {
    expect(shouldFailOver(limits, 1, 10_000, true)).toBe(true);
    expect(shouldFailOver(limits, 2, 5_000, true)).toBe(true);
    expect(shouldFailOver(limits, 3, 5_000, true)).toBe(false);
    expect(shouldFailOver(limits, 1, 10_000, false)).toBe(false);
    expect(shouldFailOver(limits, 1, MIN_ATTEMPT_MS - 1, true)).toBe(false);
  });

  it('records timeouts as 504 and missing responders as connection failures', () => {
    expect(attemptErrorType('timeout')).toBe('ROUTE_INSTANCE_TIMEOUT');
    expect(attemptErrorType('no_responders')).toBe('CONNECTION_FAILED');
  });
});

describe('loop guard', () => {
  it('allows hops below the maximum and refuses the next one with the path', () => {
    expect(() => assertHopAllowed(2, 'a:1,b:1', 3, 'a', 't')).not.toThrow();
    try {
      assertHopAllowed(3, 'a:1,b:1,a:2', 3, 'b', 't');
      expect.unreachable();
    } catch (err) {
      const e = err as AegisError<'ROUTE_LOOP_DETECTED'>;
      expect(e.code).toBe('ROUTE_LOOP_DETECTED');
      expect(e.status).toBe(508);
      expect(e.details).toEqual({ hops: 3, path: ['a:1', 'b:1', 'a:2', 'b'], trace_id: 't' });
    }
  });

  it('keeps the path bounded', () => {
    let path = '';
    for (let k = 0; k < 500; k++) path = extendPath(path, `service-${k}:instance-${k}`);
    expect(path.length).toBeLessThanOrEqual(MAX_PATH_LENGTH);
    expect(parsePath(path).at(-1)).toBe('service-499:instance-499');
    expect(parsePath('')).toEqual([]);
  });
});

describe('instance failures', () => {
  it('marks an instance unhealthy after 3 failures without an answer, then quarantines it', () => {
    const unhealthy: string[] = [];
    const f = new InstanceFailures({ threshold: 3, quarantineMs: 1_000, onUnhealthy: (id) => unhealthy.push(id) });
    f.failed('a', 'timeout', 0);
    f.failed('a', 'timeout', 0);
    f.succeeded('a'); // an answer resets the count
    f.failed('a', 'timeout', 0);
    f.failed('a', 'timeout', 0);
    expect(unhealthy).toEqual([]);
    f.failed('a', 'timeout', 0);
    expect(unhealthy).toEqual(['a']);
    const list = [{ instance_id: 'a' }, { instance_id: 'b' }];
    expect(f.filter(list, 500).map((i) => i.instance_id)).toEqual(['b']);
    // after the quarantine it is back, on probation: one failure quarantines it again
    expect(f.filter(list, 1_000)).toBe(list);
    f.failed('a', 'no_responders', 1_100);
    expect(unhealthy).toEqual(['a', 'a']);
    expect(f.isQuarantined('a', 1_200)).toBe(true);
  });

  it('forgets a quarantined instance when a new process registers under its id', () => {
    const f = new InstanceFailures({ threshold: 1, quarantineMs: 30_000, onUnhealthy: () => {} });
    f.failed('a', 'no_responders', 0);
    expect(f.isQuarantined('a', 10)).toBe(true);
    f.forget('a');
    expect(f.isQuarantined('a', 10)).toBe(false);
    expect(f.quarantined()).toEqual([]);
  });
});

describe('reply peek', () => {
  it('tells results from error replies without decoding results', () => {
    expect(replyErrorCode(encode({ result: { big: 'x'.repeat(1000) } }))).toBeUndefined();
    expect(replyErrorCode(encode({}))).toBeUndefined();
    expect(replyErrorCode(encode(errorReply(new AegisError('METHOD_NOT_FOUND', 'no'))))).toBe('METHOD_NOT_FOUND');
    expect(replyErrorCode(encode({ other: 1, result: 2 }))).toBeUndefined();
    expect(replyErrorCode(new Uint8Array([0xc1]))).toBe('DECODE_FAILED');
  });
});
