import { describe, expect, it } from 'vitest';
import { AegisError } from '@aegis-ipc/protocol';
import { MethodTable, type CallContext } from '@aegis-ipc/sdk';
import { errorCodeOf } from '@aegis-ipc/testing';

const ctx: CallContext = { traceId: 't', serviceName: 'svc', instanceId: 'svc-1', method: 'm', attempt: 1, signal: new AbortController().signal };


describe('MethodTable', () => {
  it('invokes sync and async handlers with params and context', async () => {
    const table = new MethodTable();
    table.set('add', ({ a, b }) => Number(a) + Number(b));
    table.set('who', async (_p, c) => c.instanceId);
    expect(await table.invoke('add', { a: 1, b: 2 }, ctx)).toBe(3);
    expect(await table.invoke('who', {}, ctx)).toBe('svc-1');
    expect(table.methods().sort()).toEqual(['add', 'who']);
  });

  it('refuses method names that are not subject tokens', () => {
    const table = new MethodTable();
    for (const bad of ['a.b', 'a*', '>', '', 'x y', 'a'.repeat(65)]) expect(() => table.set(bad, () => 1)).toThrow(AegisError);
  });

  it('answers METHOD_NOT_FOUND with the methods it serves', async () => {
    const table = new MethodTable();
    table.set('one', () => 1);
    try {
      await table.invoke('two', {}, ctx);
      expect.unreachable();
    } catch (err) {
      expect((err as AegisError).code).toBe('METHOD_NOT_FOUND');
      expect((err as AegisError).details).toMatchObject({ method: 'two', available: ['one'] });
    }
  });

  it('wraps thrown errors as APPLICATION_ERROR and keeps typed AegisErrors', async () => {
    const table = new MethodTable();
    table.set('throws', () => {
      throw new TypeError('nope');
    });
    table.set('rejects', () => Promise.reject(new Error('later')));
    table.set('typed', () => {
      throw new AegisError('VALIDATION_FAILED', 'bad input', { details: { fields: [] } });
    });
    expect(await errorCodeOf(table.invoke('throws', {}, ctx))).toBe('APPLICATION_ERROR');
    expect(await errorCodeOf(table.invoke('rejects', {}, ctx))).toBe('APPLICATION_ERROR');
    expect(await errorCodeOf(table.invoke('typed', {}, ctx))).toBe('VALIDATION_FAILED');
  });
});
