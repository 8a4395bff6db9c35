import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, encode } from '@aegis-ipc/protocol';
import { assertFitsPayload, isConnectionFailure, requestReply, withRetry } from '@aegis-ipc/sdk';
import { connectTestNats, uniqueName, errorCodeOf } from '@aegis-ipc/testing';

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
});


describe('requestReply', () => {
  it('maps "no responders" to CONNECTION_FAILED (retryable)', async () => {
    expect(await errorCodeOf(requestReply(nc, `t.${uniqueName('none')}`, {}, { timeoutMs: 500 }))).toBe('CONNECTION_FAILED');
  });

  it('maps a silent responder to TIMEOUT (504)', async () => {
    const subject = `t.${uniqueName('silent')}`;
    const sub = nc.subscribe(subject, { callback: () => {} });
    try {
      const started = Date.now();
      expect(await errorCodeOf(requestReply(nc, subject, {}, { timeoutMs: 150 }))).toBe('TIMEOUT');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      sub.unsubscribe();
    }
  });

  it('retries connection failures with backoff, then gives up with the last error', async () => {
    let attempts = 0;
    const subject = `t.${uniqueName('none')}`;
    const code = await errorCodeOf(withRetry(() => (attempts++, requestReply(nc, subject, {}, { timeoutMs: 200 })), { retries: 3, initialDelayMs: 5 }));
    expect(code).toBe('CONNECTION_FAILED');
    expect(attempts).toBe(4);
  });

  it('does not retry non-retryable errors', async () => {
    let attempts = 0;
    await errorCodeOf(withRetry(async () => {
      attempts++;
      throw new AegisError('VALIDATION_FAILED', 'bad');
    }));
    expect(attempts).toBe(1);
  });

  it('retries only what retryOn accepts: isConnectionFailure leaves a TIMEOUT alone', async () => {
    let attempts = 0;
    const code = await errorCodeOf(withRetry(async () => {
      attempts++;
      throw new AegisError('TIMEOUT', 'no reply');
    }, { retries: 3, initialDelayMs: 5 }, undefined, isConnectionFailure));
    expect(code).toBe('TIMEOUT');
    expect(attempts).toBe(1);
  });

  it('refuses payloads over the server max_payload instead of losing the connection', async () => {
    const huge = 'x'.repeat((nc.info?.max_payload ?? 1_048_576) + 10);
    expect(await errorCodeOf(requestReply(nc, 't.big', { huge }, { timeoutMs: 500 }))).toBe('PAYLOAD_TOO_LARGE');
    expect(() => assertFitsPayload(nc, encode({ huge }).length)).toThrow(AegisError);
    expect(nc.isClosed()).toBe(false);
  });
});
