/** Message ids (EO-1) and the redelivery schedule (EO-3), without I/O. */
import { describe, expect, it } from 'vitest';
import { isUuidV4, newMessageId } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { AegisError, ackWaits, resolveReceiverOptions, resolveRetrySchedule, retryDelayMs, retryHorizonMs, warnOnShortTtl } from '@aegis-ipc/sdk';

describe('message ids', () => {
  it('10,000 generated ids are UUID v4 and never collide', () => {
    const ids = Array.from({ length: 10_000 }, () => newMessageId());
    expect(ids.every((id) => isUuidV4(id))).toBe(true);
    expect(new Set(ids).size).toBe(10_000);
  });
});

describe('retry schedule', () => {
  it('defaults to a 30 s ack timeout and 3 retries with exponential backoff', () => {
    const s = resolveRetrySchedule({});
    expect(s).toMatchObject({ ackTimeoutMs: 30_000, maxRetries: 3 });
    expect([1, 2, 3, 4].map((r) => retryDelayMs(s, r))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(ackWaits(s)).toEqual([31_000, 32_000, 34_000, 38_000]);
    expect(retryHorizonMs(s)).toBe(135_000);
  });

  it('caps the backoff', () => {
    const s = resolveRetrySchedule({ ackTimeoutMs: 100, maxRetries: 6, backoffInitialMs: 100, backoffMaxMs: 300 });
    expect(ackWaits(s)).toEqual([200, 300, 400, 400, 400, 400, 400]);
  });

  it('rejects nonsense with CONFIG_INVALID', () => {
    expect(() => resolveRetrySchedule({ ackTimeoutMs: 0 })).toThrow(AegisError);
    expect(() => resolveRetrySchedule({ maxRetries: 1.5 })).toThrow(/maxRetries/);
  });
});

describe('receiver options', () => {
  it('needs exactly one idempotency strength', () => {
    expect(() => resolveReceiverOptions({ idempotency: {} as never })).toThrow(/idempotency/);
    const store = { claim: async () => ({ state: 'claimed' as const }), complete: async () => undefined, release: async () => undefined };
    expect(resolveReceiverOptions({ idempotency: { store } })).toMatchObject({ responseTtlMs: 3_600_000, duplicateWindowMs: 600_000, concurrency: 16 });
  });
});

describe('start-up TTL check', () => {
  const store = { claim: async () => ({ state: 'claimed' as const }), complete: async () => undefined, release: async () => undefined };
  const run = (responseTtlMs: number, kind: 'dedupe' | 'inbox' = 'dedupe') => {
    const warnings: unknown[] = [];
    const logger = { warn: (obj: unknown) => warnings.push(obj) } as unknown as Logger;
    warnOnShortTtl(resolveReceiverOptions({ idempotency: { store }, responseTtlMs }), { kind, responseTtlMs, run: async () => ({ kind: 'busy', retryAfterMs: 0 }) }, logger);
    return warnings;
  };

  it('warns when the dedupe TTL is shorter than the retry horizon (135 s by default) or the duplicate window', () => {
    expect(run(60_000)).toHaveLength(1);
    expect(run(300_000)).toHaveLength(1); // longer than the horizon, shorter than the 10 min window
    expect(run(3_600_000)).toHaveLength(0);
  });

  it('does not warn for the inbox, whose rows do not expire', () => {
    expect(run(60_000, 'inbox')).toHaveLength(0);
  });
});
