import { describe, expect, it } from 'vitest';
import { AegisError, ERROR_CODES, decode, encode, errorReply, unwrapReply } from '@aegis-ipc/protocol';

describe('AegisError', () => {
  it('takes status and retryable from the registry', () => {
    const err = new AegisError('ROUTE_NO_INSTANCE', 'no instance', { details: { service_name: 'billing' } });
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(false);
    expect(err.name).toBe('AegisError');
  });

  it('round-trips through the wire as the same code with typed details', () => {
    const original = new AegisError('ROUTE_ALL_FAILED', 'all failed', {
      details: { service_name: 's', attempts: [{ instance_id: 'a', error_type: 'ROUTE_INSTANCE_TIMEOUT', duration_ms: 5 }] },
    });
    const received = decode(encode(errorReply(original)));
    let rebuilt: unknown;
    try {
      unwrapReply(received);
    } catch (err) {
      rebuilt = err;
    }
    expect(rebuilt).toBeInstanceOf(AegisError);
    const e = rebuilt as AegisError;
    expect(e.is('ROUTE_ALL_FAILED') && e.details?.attempts[0]?.instance_id).toBe('a');
    expect(e.status).toBe(502);
  });

  it('rebuilds an unknown remote code as INTERNAL and keeps the code', () => {
    const e = AegisError.fromWire({ code: 'FROM_THE_FUTURE', message: 'x', status: 418, retryable: false });
    expect(e.code).toBe('INTERNAL');
    expect(e.details).toMatchObject({ remote_code: 'FROM_THE_FUTURE' });
  });

  it('never sends the cause or stack on the wire', () => {
    const wire = new AegisError('INTERNAL', 'boom', { cause: new Error('secret') }).toWire();
    expect(Object.keys(wire).sort()).toEqual(['code', 'message', 'retryable', 'status']);
  });

  it('has a status for every code', () => {
    for (const entry of Object.values(ERROR_CODES)) expect(entry.status).toBeGreaterThanOrEqual(400);
  });
});
