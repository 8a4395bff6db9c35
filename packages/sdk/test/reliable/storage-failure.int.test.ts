/**
 * EO-6 storage failure: when JetStream cannot store the request the call fails with
 * STORAGE_FAILURE (nothing sent) — or, only with `degradeToAtMostOnce`, is sent once through the
 * at-most-once path and a warning says the guarantee was lowered.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectTestNats } from '@aegis-ipc/testing';
import { AegisError, ReliableCaller } from '@aegis-ipc/sdk';

async function brokenCaller(lines: string[], fallback: () => Promise<unknown>): Promise<ReliableCaller> {
  const nc = await connectTestNats();
  await nc.close(); // JetStream unreachable: every publish fails
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  return new ReliableCaller(nc, { logger, fallback });
}

describe('storage failure', () => {
  it('fails with STORAGE_FAILURE by default and never falls back', async () => {
    let fallbacks = 0;
    const caller = await brokenCaller([], async () => fallbacks++);
    const err = await caller.call('svc', 'm', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AegisError);
    expect((err as AegisError).code).toBe('STORAGE_FAILURE');
    expect((err as AegisError).retryable).toBe(true);
    expect(fallbacks).toBe(0);
  });

  it('degradeToAtMostOnce sends once through the fallback and logs that the guarantee was lowered', async () => {
    const lines: string[] = [];
    const caller = await brokenCaller(lines, async () => ({ via: 'at-most-once' }));
    expect(await caller.call('svc', 'm', {}, { degradeToAtMostOnce: true })).toEqual({ via: 'at-most-once' });
    const warning = lines.map((l) => JSON.parse(l) as { event?: string; message_id?: string; trace_id?: string }).find((l) => l.event === 'degraded_to_at_most_once');
    expect(warning?.message_id).toBeDefined();
    expect(warning?.trace_id).toBeDefined();
  });
});
