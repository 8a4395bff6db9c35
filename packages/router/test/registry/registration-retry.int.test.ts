/**
 * SPEC REG-4 with the client's defaults: "connection failures → the SDK retries 3 times with
 * exponential backoff; no reply in time → 504 Gateway Timeout". No router runs in this file's
 * namespace (each test file has its own), so the first test has nobody to ask and the second a
 * stand-in that takes registrations and never answers. The client's requests are counted on its
 * own connection, timed as they leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { AegisError, SUBJECTS } from '@aegis-ipc/protocol';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { connectTestNats, uniqueName } from '@aegis-ipc/testing';

let nc: NatsConnection;
let client: AegisClient;
/** `performance.now()` of each registration request the client sent. */
const sent: number[] = [];

beforeAll(async () => {
  nc = await connectTestNats();
  const request = nc.request.bind(nc);
  nc.request = (subject, payload, options) => {
    if (subject === SUBJECTS.register) sent.push(performance.now());
    return request(subject, payload, options);
  };
  client = await connect({ nc }); // the defaults: 5 s request timeout, 3 retries from 200 ms
});

afterAll(async () => {
  await client.close();
  await nc.close();
});

async function registrationError(): Promise<{ error: AegisError; elapsedMs: number }> {
  sent.length = 0;
  const started = performance.now();
  try {
    await client.register(uniqueName('svc'), uniqueName('i'));
  } catch (err) {
    if (err instanceof AegisError) return { error: err, elapsedMs: performance.now() - started };
    throw err;
  }
  throw new Error('expected the registration to fail');
}

describe('registration retries (REG-4)', () => {
  it('retries 3 times with growing delays when no router is listening, then fails CONNECTION_FAILED', async () => {
    const { error } = await registrationError();
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(sent).toHaveLength(4);
    const gaps = sent.slice(1).map((at, k) => at - (sent[k] as number));
    // 200 ms doubled each time, jittered into [½, 1) of it: 100–200, 200–400, 400–800 ms
    for (const [k, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual(100 * 2 ** k - 5);
      expect(gap).toBeLessThan(200 * 2 ** k + 250);
    }
    expect(gaps[1]).toBeGreaterThan(gaps[0] as number);
    expect(gaps[2]).toBeGreaterThan(gaps[1] as number);
  });

  it('answers 504 TIMEOUT after the one 5 s timeout when a router takes the request and never answers', { timeout: 15_000 }, async () => {
    const silent = await connectTestNats();
    let received = 0;
    silent.subscribe(SUBJECTS.register, {
      callback: () => {
        received++;
      },
    });
    await silent.flush();
    try {
      const { error, elapsedMs } = await registrationError();
      expect(error.code).toBe('TIMEOUT');
      expect(error.status).toBe(504);
      expect(elapsedMs).toBeGreaterThanOrEqual(4_990);
      expect(elapsedMs).toBeLessThan(6_500);
      expect(sent).toHaveLength(1);
      expect(received).toBe(1);
    } finally {
      await silent.close();
    }
  });
});
