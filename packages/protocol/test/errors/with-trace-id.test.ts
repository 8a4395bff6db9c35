import { describe, expect, it } from 'vitest';
import { AegisError, withTraceId } from '@aegis-ipc/protocol';

describe('withTraceId', () => {
  it('keeps an error that already carries a trace id as it is', () => {
    const e = new AegisError('ROUTE_NO_INSTANCE', 'none', { details: { service_name: 's', trace_id: 'own' } });
    expect(withTraceId(e, 'other')).toBe(e);
  });

  it('takes the first valid candidate, else makes a W3C id', () => {
    const e = new AegisError('DECODE_FAILED', 'bad', { details: { reason: 'x' } });
    expect(withTraceId(e, undefined, 'not valid!', 'from-header').details).toEqual({ reason: 'x', trace_id: 'from-header' });
    expect((withTraceId(e).details as { trace_id?: string }).trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the code, message, retryable flag, attempts count and stack of the error it adds to', () => {
    const e = new AegisError('VALIDATION_FAILED', 'invalid', { details: { fields: [] }, retryable: true, callAttempts: 3 });
    const traced = withTraceId(e, 't-1');
    expect(traced).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid', retryable: true, callAttempts: 3 });
    expect(traced.stack).toBe(e.stack);
  });
});
