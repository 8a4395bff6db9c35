/**
 * EO-2: the ACK a receiver publishes on `ipc.ack.{message_id}` carries every field the SPEC names
 * — `message_id`, `service_name`, `instance_id`, `status` success|failure, `error_message`,
 * `processing_time_ms`, `trace_id` — for a handler that succeeds and for one that throws. The test
 * listens on the public subject (not the caller's private `Ipc-Ack-To` inbox) as any other
 * observer would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackSubject, decode, newMessageId, newTraceId } from '@aegis-ipc/protocol';
import { uniqueName } from '@aegis-ipc/testing';
import { ReliableReceiver, type AckMessage, type AegisClient } from '@aegis-ipc/sdk';
import { silent, startSystem, type System } from './helpers.js';

const HANDLER_MS = 30;
let system: System;
let caller: AegisClient;
let receiver: ReliableReceiver;
const service = uniqueName('acked');
const instanceId = `${service}-1`;

beforeAll(async () => {
  system = await startSystem();
  caller = await system.client();
  const server = await system.client();
  const instance = await server.register(service, instanceId);
  instance
    .handle('work', async () => {
      await new Promise((r) => setTimeout(r, HANDLER_MS));
      return { done: true };
    })
    .handle('refuse', () => {
      throw new Error('order 17 is over the credit limit');
    });
  receiver = await ReliableReceiver.start(instance, { idempotency: { statusRecord: true }, ackTimeoutMs: 2_000, logger: silent });
});

afterAll(async () => {
  await receiver?.close();
  await system?.cleanup();
});

/** Calls `method` with a known message and trace id and returns the ACK seen on `ipc.ack.{id}`. */
async function ackOf(method: string, messageId: string, traceId: string): Promise<AckMessage> {
  const sub = caller.nc.subscribe(ackSubject(messageId), { max: 1 });
  await caller.nc.flush(); // the subscription is known to the server before the call is sent
  const seen = (async () => {
    for await (const m of sub) return decode(m.data) as AckMessage;
    throw new Error(`no ACK on ${ackSubject(messageId)}`);
  })();
  await caller.callReliable(service, method, {}, { messageId, traceId, ackTimeoutMs: 2_000 }).catch(() => undefined);
  const timer = setTimeout(() => sub.unsubscribe(), 5_000);
  try {
    return await seen;
  } finally {
    clearTimeout(timer);
  }
}

describe('the EO-2 ACK on ipc.ack.{message_id}', () => {
  it('a success ACK carries every field, status success and no error message', async () => {
    const messageId = newMessageId();
    const traceId = newTraceId();
    const ack = await ackOf('work', messageId, traceId);
    expect(ack).toMatchObject({
      message_id: messageId,
      service_name: service,
      instance_id: instanceId,
      status: 'success',
      error_message: null,
      trace_id: traceId,
      response: { done: true },
      duplicate: false,
    });
    expect(Object.keys(ack)).toEqual(expect.arrayContaining(['message_id', 'service_name', 'instance_id', 'status', 'error_message', 'processing_time_ms', 'trace_id']));
    // The handler's time at least (it sleeps HANDLER_MS), and no more than the call took.
    expect(typeof ack.processing_time_ms).toBe('number');
    expect(ack.processing_time_ms).toBeGreaterThanOrEqual(HANDLER_MS - 2);
    expect(ack.processing_time_ms).toBeLessThan(2_000);
  });

  it('a failure ACK carries every field, status failure and the handler\'s error message', async () => {
    const messageId = newMessageId();
    const traceId = newTraceId();
    const ack = await ackOf('refuse', messageId, traceId);
    expect(ack).toMatchObject({
      message_id: messageId,
      service_name: service,
      instance_id: instanceId,
      status: 'failure',
      trace_id: traceId,
      error: { code: 'APPLICATION_ERROR' },
    });
    expect(ack.error_message).toContain('order 17 is over the credit limit');
    expect(typeof ack.processing_time_ms).toBe('number');
    expect(ack.processing_time_ms).toBeGreaterThanOrEqual(0);
    expect(ack.processing_time_ms).toBeLessThan(2_000);
    expect(ack.response).toBeUndefined();
  });
});
