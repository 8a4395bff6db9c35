/** The event bus's server-acked publish path (ADR 0023) against the real JetStream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { NatsHeaderBlock } from '@aegis-ipc/protocol';
import { connectTestNats, deleteStreams, uniqueName } from '@aegis-ipc/testing';
import { JetStreamPublisher, JetStreamPublishError } from '../../src/jetstream/jetstream-publisher.js';

let nc: NatsConnection;
const run = uniqueName('pub');
const stream = run.toUpperCase();
const block = (...pairs: string[]) => new NatsHeaderBlock(pairs) as unknown as MsgHdrs;

beforeAll(async () => {
  nc = await connectTestNats('aegis-publisher-test');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${run}.>`], duplicate_window: 60_000_000_000 });
});
afterAll(async () => {
  await deleteStreams(nc, [stream]);
  await nc.close();
});

describe('JetStreamPublisher', () => {
  it('resolves with the stored sequence, flags a repeated Nats-Msg-Id and delivers the headers', async () => {
    const publisher = new JetStreamPublisher(nc, 2_000);
    const first = await publisher.publish(`${run}.a`, new Uint8Array([1]), block('Nats-Msg-Id', 'm-1', 'X-Test', 'yes'));
    const again = await publisher.publish(`${run}.a`, new Uint8Array([1]), block('Nats-Msg-Id', 'm-1'));
    expect(first).toMatchObject({ stream, duplicate: false });
    expect(again).toEqual({ stream, seq: first.seq, duplicate: true });
    const stored = await (await jetstreamManager(nc)).streams.getMessage(stream, { seq: first.seq });
    expect(stored?.header?.get('X-Test')).toBe('yes');
    await publisher.close();
  });

  it('reports no stream on the subject as a retryable no-responders error', async () => {
    const publisher = new JetStreamPublisher(nc, 2_000);
    const err = await publisher.publish(`${uniqueName('nostream')}.x`, new Uint8Array([1]), block()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamPublishError);
    expect((err as JetStreamPublishError).retryable).toBe(true);
    expect(String(err)).toContain('no responders');
    await publisher.close();
  });

  it('reports a rejected expectation with its API code, not retryable', async () => {
    const publisher = new JetStreamPublisher(nc, 2_000);
    await publisher.publish(`${run}.b`, new Uint8Array([1]), block());
    const err = await publisher
      .publish(`${run}.b`, new Uint8Array([2]), block('Nats-Expected-Last-Subject-Sequence', '0'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamPublishError);
    expect(err).toMatchObject({ retryable: false, apiCode: 10071 });
    await publisher.close();
  });

  it('times a publish out when nothing acknowledges it (retryable)', async () => {
    const subject = `${uniqueName('silent')}.x`;
    const silent = nc.subscribe(subject); // a listener that never answers: no 503, no ack
    const publisher = new JetStreamPublisher(nc, 100);
    const err = await publisher.publish(subject, new Uint8Array([1]), block()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect(String(err)).toContain('timeout');
    silent.unsubscribe();
    await publisher.close();
  });

  it('refuses publishes after close and lets outstanding ones finish first', async () => {
    const publisher = new JetStreamPublisher(nc, 2_000);
    const pending = publisher.publish(`${run}.c`, new Uint8Array([1]), block());
    const closed = publisher.close();
    await expect(pending).resolves.toMatchObject({ stream });
    await closed;
    await expect(publisher.publish(`${run}.c`, new Uint8Array([1]), block())).rejects.toMatchObject({ retryable: false });
  });
});
