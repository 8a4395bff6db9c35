import { describe, expect, it } from 'vitest';
import { AegisError, assertName, assertTopic, nameProblem } from '@aegis-ipc/protocol';

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as AegisError).code;
  }
}

describe('assertName', () => {
  it.each(['billing', 'svc-1', 'A_b-9', 'x'.repeat(64)])('accepts %s', (name) => {
    expect(code(() => assertName('service_name', name))).toBeUndefined();
  });

  it.each([
    ['a dot', 'a.b'],
    ['a star', 'a*'],
    ['a chevron', 'a>'],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a control character', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['unicode', 'dienst-ü'],
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['a number', 42],
    ['null', null],
  ])('rejects %s with INVALID_NAME naming the field', (_what, value) => {
    try {
      assertName('instance_id', value);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AegisError);
      const e = err as AegisError;
      expect(e.code).toBe('INVALID_NAME');
      expect(e.message).toMatch(/^instance_id /);
      expect(e.details).toMatchObject({ field: 'instance_id' });
    }
  });
});

describe('assertTopic', () => {
  it('accepts dot-separated tokens', () => {
    expect(code(() => assertTopic('orders.created'))).toBeUndefined();
  });
  it.each(['orders.*', 'orders.>', '.orders', 'orders..x', 'a b', '', 'a.b.c.d.e.f.g.h.i'])('rejects %j', (topic) => {
    expect(code(() => assertTopic(topic))).toBe('INVALID_NAME');
  });
});

describe('nameProblem memo of the last good names', () => {
  it('answers a remembered name without the regex, but never past its length limit, and still refuses bad names', () => {
    expect(nameProblem('billing')).toBeUndefined();
    expect(nameProblem('charge')).toBeUndefined();
    expect(nameProblem('billing')).toBeUndefined();
    expect(nameProblem('billing', 3)).toBe('must be at most 3 characters');
    for (const bad of ['billing.x', 'bill ing', 'billing*', 'a>']) expect(nameProblem(bad)).toBe('may contain only letters, digits, "_" and "-"');
    expect(nameProblem('charge')).toBeUndefined();
  });
});
