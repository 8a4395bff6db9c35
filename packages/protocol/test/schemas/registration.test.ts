import { describe, expect, it } from 'vitest';
import type { AegisError} from '@aegis-ipc/protocol';
import { decode, encode, registerRequest } from '@aegis-ipc/protocol';

describe('registerRequest schema', () => {
  it('accepts the minimal map another language would send', () => {
    const value = decode(encode({ service_name: 'billing', instance_id: 'billing-1', metadata: { zone: 'a' } }));
    expect(registerRequest.parse(value).instance_id).toBe('billing-1');
  });

  it('reports every failed field with a JSON pointer', () => {
    try {
      registerRequest.parse({ service_name: 'bad.name', instance_id: '', metadata: 'nope', extra: 1 });
      expect.unreachable();
    } catch (err) {
      const e = err as AegisError<'VALIDATION_FAILED'>;
      expect(e.code).toBe('VALIDATION_FAILED');
      const paths = e.details?.fields.map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['/service_name', '/instance_id', '/metadata', '/']));
      expect(e.details?.fields.find((f) => f.path === '/')?.message).toContain('extra');
    }
  });
});
