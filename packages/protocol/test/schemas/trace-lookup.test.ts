import { describe, expect, it } from 'vitest';
import { NAMESPACE, SUBJECTS, TRACE_LOOKUP_MAX_ROUTES, decode, encode, traceLookupReply, traceLookupRequest, type AegisError } from '@aegis-ipc/protocol';

describe('trace lookup schemas (RT-8)', () => {
  it('lives under the namespace like every subject', () => {
    expect(SUBJECTS.traceLookup).toBe(`${NAMESPACE}.router.traces`);
  });

  it('accepts a request with a trace id by the TraceId rules, and nothing else', () => {
    expect(traceLookupRequest.parse(decode(encode({ trace_id: 'a'.repeat(32) })))).toEqual({ trace_id: 'a'.repeat(32) });
    expect(traceLookupRequest.check({ trace_id: 'my_trace-1' })).toBe(true);
    for (const bad of [{}, { trace_id: '' }, { trace_id: 'x'.repeat(65) }, { trace_id: 'a.b' }, { trace_id: 7 }, { trace_id: 'ok', limit: 5 }, 'ok', null]) {
      expect(traceLookupRequest.check(bad), JSON.stringify(bad)).toBe(false);
    }
    try {
      traceLookupRequest.parse({ trace_id: 'a b' }, 'trace lookup request');
      expect.unreachable();
    } catch (err) {
      expect((err as AegisError).code).toBe('VALIDATION_FAILED');
      expect((err as AegisError<'VALIDATION_FAILED'>).details?.fields[0]?.path).toBe('/trace_id');
    }
  });

  it('checks a reply: replica id, at most the bound of routes, the truncated flag; extra fields allowed', () => {
    const route = {
      trace_id: 't1', service_name: 'svc', method: 'm', received_at: new Date(0).toISOString(), strategy: 'round_robin', hops: 0, path: [],
      instances_considered: ['svc-1'], attempts: [{ attempt: 1, instance_id: 'svc-1', outcome: 'answered', duration_ms: 1.5, timeout_ms: 5000 }],
      outcome: 'success', instance_id: 'svc-1', error_code: null, duration_ms: 1.7,
    };
    expect(traceLookupReply.check(decode(encode({ router_id: 'host-1-ab12', routes: [route], truncated: false, later_field: 1 })))).toBe(true);
    expect(traceLookupReply.check({ router_id: 'host-1-ab12', routes: [], truncated: false })).toBe(true);
    expect(traceLookupReply.check({ router_id: '', routes: [], truncated: false })).toBe(false);
    expect(traceLookupReply.check({ router_id: 'r', routes: [{ ...route, hops: 'one' }], truncated: false })).toBe(false);
    expect(traceLookupReply.check({ router_id: 'r', routes: Array.from({ length: TRACE_LOOKUP_MAX_ROUTES + 1 }, () => route), truncated: true })).toBe(false);
    expect(traceLookupReply.check({ error: { code: 'VALIDATION_FAILED', message: 'x', status: 400, retryable: false } })).toBe(false);
  });
});
