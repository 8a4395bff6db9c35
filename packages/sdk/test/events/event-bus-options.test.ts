import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { EVENT_BUS_DEFAULTS, resolveEventBusOptions, resolveSubscribeOptions } from '../../src/events/event-bus-options.js';
import { assertUserHeaders, envelopeHeaders, readEnvelope } from '../../src/events/event-headers.js';
import { consumerName } from '../../src/events/nats-topology.js';

const nats = {} as NatsConnection;

describe('resolveEventBusOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveEventBusOptions({ nats });
    expect(o).toMatchObject({ defaultTransport: 'nats', stream: EVENT_BUS_DEFAULTS.stream, subjectPrefix: EVENT_BUS_DEFAULTS.subjectPrefix, ackWaitMs: 30_000, maxDeliver: 5 });
    expect(o.duplicateWindowMs).toBe(EVENT_BUS_DEFAULTS.duplicateWindowMs);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('rejects a duplicate window shorter than the publish retry horizon', () => {
    expect(() => resolveEventBusOptions({ nats, duplicateWindowMs: 1000, publishTimeoutMs: 5000 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('rejects a dedupe TTL shorter than the duplicate window, and a missing connection', () => {
    expect(() => resolveEventBusOptions({ nats, dedupeTtlMs: 1000 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveEventBusOptions({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveEventBusOptions({ nats, defaultTransport: 'redis' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('validates subscribe options and names', () => {
    const bus = resolveEventBusOptions({ nats });
    expect(resolveSubscribeOptions('a.b', {}, bus)).toMatchObject({ qos: 1, group: 'default', from: 'new', transport: 'nats' });
    expect(() => resolveSubscribeOptions('a.*', {}, bus)).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => resolveSubscribeOptions('a', { group: 'a.b' }, bus)).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => resolveSubscribeOptions('a', { maxDeliver: 0 }, bus)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveSubscribeOptions('a', { backoff: [-1] }, bus)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('event headers', () => {
  it('refuses reserved and malformed user headers', () => {
    expect(() => assertUserHeaders({ 'Nats-Msg-Id': 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => assertUserHeaders({ 'x y': 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => assertUserHeaders({ tenant: 'a\r\nb' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => assertUserHeaders({ tenant: 'acme' })).not.toThrow();
  });

  it('round-trips the envelope and keeps user headers apart', () => {
    const h = { tenant: 'acme', ...envelopeHeaders('m-1', 2, 'order-7') };
    expect(readEnvelope(Object.entries(h), 'fallback')).toEqual({
      messageId: 'm-1',
      hasMessageId: true,
      dedupeId: undefined,
      madeId: false,
      natsMsgId: undefined,
      firstStoredAt: 0,
      qos: 2,
      key: 'order-7',
      user: { tenant: 'acme' },
      trace: undefined,
    });
    expect(readEnvelope([], 'fallback')).toMatchObject({ messageId: 'fallback', hasMessageId: false, qos: 1 });
  });

  it('sends no envelope headers for a plain QoS 1 publish (ADR 0025)', () => {
    expect(envelopeHeaders(undefined, 1, undefined)).toEqual({});
    expect(envelopeHeaders(undefined, 1, 'order-7')).toEqual({ 'Ipc-Event-Key': 'order-7' });
    expect(envelopeHeaders('m-1', 0, undefined)).toEqual({ 'Ipc-Message-Id': 'm-1', 'Ipc-Qos': '0' });
  });

  it('marks only a QoS 2 id the SDK made, and reads the mark and a replay\'s first stored time back (ADR 0026)', () => {
    expect(envelopeHeaders('m-1', 2, undefined, true)).toEqual({ 'Ipc-Message-Id': 'm-1', 'Ipc-Qos': '2', 'Ipc-Made-Id': '1' });
    expect(envelopeHeaders('m-1', 0, undefined, true)).toEqual({ 'Ipc-Message-Id': 'm-1', 'Ipc-Qos': '0' });
    expect(readEnvelope(Object.entries(envelopeHeaders('m-1', 2, undefined, true)), 'f')).toMatchObject({ madeId: true, firstStoredAt: 0 });
    expect(readEnvelope([['Ipc-First-Stored-At', '1763850000123']], 'f')).toMatchObject({ madeId: false, firstStoredAt: 1763850000123 });
    expect(readEnvelope([['Ipc-First-Stored-At', 'soon']], 'f')).toMatchObject({ firstStoredAt: 0 });
  });
});

describe('consumerName', () => {
  it('keeps topics that differ only by separators apart', () => {
    expect(consumerName('a.b', 'g')).not.toBe(consumerName('a_b', 'g'));
    expect(consumerName('a.b', 'g')).toMatch(/^g__a_b__[0-9a-f]{8}$/);
  });
});
