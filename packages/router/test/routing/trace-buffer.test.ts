import { describe, expect, it } from 'vitest';
import { TraceBuffer, type TraceEntry } from '../../src/routing/trace-buffer.js';

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
});
