/**
 * Why every AegisIPC subscription callback is guarded: nats.js stops reading a connection when a
 * callback throws (ADR 0051's router that went deaf). Both halves are shown on the real server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import { guardedCallback } from '../../src/index.js';

const connections: NatsConnection[] = [];
async function connection(): Promise<NatsConnection> {
  const nc = await connectTestNats('aegis-guarded-callback-test');
  connections.push(nc);
  return nc;
}
afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close().catch(() => undefined);
});

/** Publishes `bad`, then `good`, on `subject` from another connection. */
async function publishBadThenGood(subject: string): Promise<void> {
  const publisher = await connection();
  publisher.publish(subject, new TextEncoder().encode('bad'));
  publisher.publish(subject, new TextEncoder().encode('good'));
  await publisher.flush();
}

describe('guardedCallback', () => {
  it('keeps the connection reading after a callback throws, and reports what it threw', async () => {
    const nc = await connection();
    const subject = uniqueName('guarded');
    const got: string[] = [];
    const reported: unknown[] = [];
    nc.subscribe(subject, {
      callback: guardedCallback(
        (_err, msg) => {
          const text = msg.string();
          if (text === 'bad') throw new Error('hostile message');
          got.push(text);
        },
        (err) => reported.push(err),
      ),
    });
    await nc.flush();
    await publishBadThenGood(subject);
    await waitFor(() => got.length === 1, { what: 'the message after the one that threw' });
    expect(got).toEqual(['good']);
    expect(reported).toHaveLength(1);
    expect(String(reported[0])).toContain('hostile message');
    // The connection still serves requests.
    const echo = uniqueName('echo');
    nc.subscribe(echo, { callback: guardedCallback((_err, msg) => msg.respond(msg.data)) });
    expect([...(await nc.request(echo, new Uint8Array([1]), { timeout: 2_000 })).data]).toEqual([1]);
  });

  it('is needed: an unguarded callback that throws stops nats.js reading the connection', async () => {
    const nc = await connection();
    const subject = uniqueName('unguarded');
    const got: string[] = [];
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const text = msg.string();
        if (text === 'bad') throw new Error('hostile message');
        got.push(text);
      },
    });
    await nc.flush();
    await publishBadThenGood(subject);
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]); // 'good' was never read
  });
});
