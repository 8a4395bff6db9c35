import { describe, expect, it } from 'vitest';
import { TraceBuffer, type TraceEntry } from '../../src/routing/trace-buffer.js';
import type { AttemptRecord } from '../../src/routing/route-outcome.js';

function entry(traceId: string, n: number): TraceEntry {
  return {
    trace_id: traceId,
    service_name: 'svc',
    method: `m${n}`,
    received_at: 1_700_000_000_000 + n,
    strategy: 'round_robin',
    hops: 0,
    path: n % 2 === 0 ? '' : 'a:a-1,b:b-1',
    considered: [],
    attempts: [],
    outcome: 'success',
    instance_id: 'svc-1',
    error_code: null,
    duration_ms: n,
  };
}

describe('TraceBuffer', () => {
  it('returns every call of a trace oldest first, and forgets what the ring evicted', () => {
    const buffer = new TraceBuffer(4);
    buffer.record(entry('t1', 1));
    buffer.record(entry('t2', 2));
    buffer.record(entry('t1', 3));
    expect(buffer.get('t1').map((v) => v.method)).toEqual(['m1', 'm3']);
    buffer.record(entry('t3', 4));
    buffer.record(entry('t3', 5)); // evicts m1
    expect(buffer.get('t1').map((v) => v.method)).toEqual(['m3']);
    expect(buffer.get('t3').map((v) => v.method)).toEqual(['m4', 'm5']);
    expect(buffer.get('unknown')).toEqual([]);
  });

  it('finds the newest calls of a trace up to a bound, oldest first, and says when it left older ones out', () => {
    const buffer = new TraceBuffer(8);
    for (let n = 1; n <= 6; n++) buffer.record(entry(n % 3 === 0 ? 'other' : 't1', n));
    expect(buffer.find('t1', 10)).toEqual({ routes: buffer.get('t1'), truncated: false });
    const bounded = buffer.find('t1', 2);
    expect(bounded.routes.map((v) => v.method)).toEqual(['m4', 'm5']);
    expect(bounded.truncated).toBe(true);
    expect(buffer.find('t1', 4).truncated).toBe(false);
    expect(buffer.find('unknown', 5)).toEqual({ routes: [], truncated: false });
  });

  it('lists recent calls newest first, shaped for the admin API', () => {
    const buffer = new TraceBuffer(3);
    for (let n = 1; n <= 5; n++) buffer.record(entry(`t${n}`, n));
    const recent = buffer.recent(10);
    expect(recent.map((v) => v.method)).toEqual(['m5', 'm4', 'm3']);
    expect(recent[1]?.path).toEqual([]);
    expect(recent[0]?.path).toEqual(['a:a-1', 'b:b-1']);
    expect(recent[0]?.received_at).toBe(new Date(1_700_000_000_005).toISOString());
    expect(buffer.recent(1)).toHaveLength(1);
  });

  it('gives back each call as recorded: attempts (none, one, several), trace ids of any valid form', () => {
    const buffer = new TraceBuffer(8);
    const answered: AttemptRecord = { attempt: 1, instance_id: 'svc-1', outcome: 'answered', duration_ms: 0.42, timeout_ms: 4999 };
    const errorReply: AttemptRecord = { attempt: 1, instance_id: 'svc-2', outcome: 'error_reply', error_type: 'APPLICATION_ERROR', duration_ms: 1, timeout_ms: 5000 };
    const failover: AttemptRecord[] = [
      { attempt: 1, instance_id: 'svc-1', outcome: 'timeout', error_type: 'ROUTE_INSTANCE_TIMEOUT', duration_ms: 5000.01, timeout_ms: 5000 },
      { attempt: 2, instance_id: 'svc-2', outcome: 'answered', duration_ms: 0.5, timeout_ms: 5000 },
    ];
    const hex = 'a'.repeat(32);
    const longest = `${'Z'.repeat(63)}_`;
    buffer.record({ ...entry(hex, 1), attempts: [answered] });
    buffer.record({ ...entry('t-2', 2), attempts: [errorReply], outcome: 'error_reply', error_code: 'APPLICATION_ERROR' });
    buffer.record({ ...entry(longest, 3), attempts: failover });
    buffer.record({ ...entry('é-not-ascii', 4), attempts: [] });
    buffer.record({ ...entry(`${hex}b`, 5), attempts: [answered] });

    const [one] = buffer.get(hex);
    expect(one?.trace_id).toBe(hex);
    expect(one?.attempts).toEqual([answered]);
    expect(Object.keys(one?.attempts[0] ?? {})).toEqual(Object.keys(answered));
    expect(buffer.get('t-2')[0]?.attempts).toEqual([errorReply]);
    expect(buffer.get(longest)[0]?.attempts).toEqual(failover);
    expect(buffer.get(longest)[0]?.trace_id).toBe(longest);
    expect(buffer.get('é-not-ascii')[0]?.attempts).toEqual([]);
    expect(buffer.get('é-not-ascii')[0]?.trace_id).toBe('é-not-ascii');
    expect(buffer.get(`${hex}b`)).toHaveLength(1);
    expect(buffer.get(hex.slice(1))).toEqual([]);
    // A view is a copy: changing it does not change the ring.
    buffer.get(hex)[0]?.attempts.pop();
    expect(buffer.get(hex)[0]?.attempts).toHaveLength(1);
    // Slots are reused in place: overwriting keeps nothing of the previous call.
    for (let n = 0; n < 8; n++) buffer.record({ ...entry(`r${n}`, n), attempts: n % 2 === 0 ? failover : [answered] });
    expect(buffer.get(hex)).toEqual([]);
    expect(buffer.recent(8).map((v) => v.attempts.length)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });
});
