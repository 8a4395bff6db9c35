/**
 * The SDK side of routed calls without a router: the instance's inbox answers the documented
 * wire format (so any router or language can drive it), and `client.call()` fails fast and
 * typed before sending or when nothing routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { HEADERS, SUBJECTS, decode, encode, instanceInboxSubject } from '@aegis-ipc/protocol';
import { connect, type AegisClient, type CallContext, type ServiceInstance } from '@aegis-ipc/sdk';
import { connectTestNats, uniqueName, errorCodeOf } from '@aegis-ipc/testing';

let nc: NatsConnection;
let client: AegisClient;
let instance: ServiceInstance;
const service = uniqueName('sdk');
const instanceId = `${service}-1`;
let seen: CallContext | undefined;

beforeAll(async () => {
  nc = await connectTestNats();
  // A stand-in registrar: the SDK only needs a registration reply to build the instance.
  nc.subscribe(SUBJECTS.register, {
    callback: (_e, msg) => {
      msg.respond(encode({ service_name: service, instance_id: instanceId, status: 'ONLINE', registered_at: new Date().toISOString(), timestamp: new Date().toISOString(), idempotent: false, heartbeat_interval_ms: 1_000, heartbeat_timeout_ms: 3_000 }));
    },
  });
  nc.subscribe(SUBJECTS.unregister, {
    callback: (_e, msg) => {
      msg.respond(encode({ service_name: service, instance_id: instanceId, status: 'OFFLINE', timestamp: new Date().toISOString() }));
    },
  });
  client = await connect({ nc, retry: { retries: 0 } });
  instance = await client.register(service, instanceId);
  instance
    .handle('echo', (params, ctx) => {
      seen = ctx;
      return params;
    })
    .handle('nothing', () => undefined)
    .handle('boom', () => {
      throw new Error('kaput');
    })
    .handle('wait', (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted'))));
});

afterAll(async () => {
  await client.close();
  await nc.close();
});

async function inbox(body: unknown, h?: ReturnType<typeof natsHeaders>): Promise<Record<string, unknown>> {
  const reply = await nc.request(instanceInboxSubject(instanceId), body instanceof Uint8Array ? body : encode(body), { timeout: 2_000, headers: h });
  return decode(reply.data) as Record<string, unknown>;
}

describe('instance inbox (router → instance)', () => {
  it('answers { result } and builds the context from body and headers', async () => {
    const h = natsHeaders();
    h.set(HEADERS.attempt, '2');
    h.set(HEADERS.hops, '1');
    h.set(HEADERS.path, `${service}:${instanceId}`);
    const reply = await inbox({ service_name: service, method: 'echo', params: { a: 1 }, trace_id: 'a'.repeat(32), resource_id: 'r-1', message_id: 'm-1' }, h);
    expect(reply).toEqual({ result: { a: 1 } });
    expect(seen).toMatchObject({ traceId: 'a'.repeat(32), serviceName: service, instanceId, method: 'echo', attempt: 2, resourceId: 'r-1', messageId: 'm-1' });
    expect(await inbox({ service_name: service, method: 'nothing' })).toEqual({});
  });

  it('answers typed errors for unknown methods, throwing handlers and bad bodies', async () => {
    expect((await inbox({ service_name: service, method: 'nope' })).error).toMatchObject({ code: 'METHOD_NOT_FOUND', status: 404 });
    expect((await inbox({ service_name: service, method: 'boom' })).error).toMatchObject({ code: 'APPLICATION_ERROR', message: 'kaput' });
    expect((await inbox({ service_name: service, method: 'echo', params: 'x' })).error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await inbox(new Uint8Array([0xc1]))).error).toMatchObject({ code: 'DECODE_FAILED' });
    // Refusals before the handler still carry a trace id (RT-4): the header's when valid, else a new one.
    const traced = natsHeaders();
    traced.set(HEADERS.traceId, 'trace-of-a-bad-body');
    expect((await inbox(new Uint8Array([0xc1]), traced)).error).toMatchObject({ code: 'DECODE_FAILED', details: { trace_id: 'trace-of-a-bad-body' } });
    expect((await inbox({ service_name: service, method: 'echo', params: 'x' })).error).toMatchObject({ code: 'VALIDATION_FAILED', details: { trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    // A well-formed envelope around hostile params (the scanned path decodes only the params).
    expect((await inbox({ service_name: service, method: 'echo', params: new Map([['__proto__', 1]]), trace_id: 'trace-of-hostile-params' })).error).toMatchObject({
      code: 'DECODE_FAILED',
      details: { trace_id: 'trace-of-hostile-params' },
    });
    expect((await inbox({ service_name: service, method: 'echo', params: new Map([[7, 'x']]) })).error).toMatchObject({ code: 'DECODE_FAILED' });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect((await inbox({ service_name: service, method: 'echo', params: deep })).error).toMatchObject({ code: 'DECODE_FAILED' });
    // What the scanner declines still gets the schema's field-level answer.
    expect((await inbox({ service_name: 'café', method: 'echo' })).error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await inbox({ service_name: service, method: 'echo', params: {}, extra: 1 })).error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('aborts ctx.signal when the attempt budget runs out', async () => {
    const h = natsHeaders();
    h.set(HEADERS.timeoutMs, '100');
    const started = performance.now();
    expect(await inbox({ service_name: service, method: 'wait' }, h)).toEqual({ result: 'aborted' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });
});

describe('client.call without a router', () => {

  it('fails fast and typed before sending', async () => {
    expect(await errorCodeOf(client.call('a.b', 'm'))).toBe('INVALID_NAME');
    expect(await errorCodeOf(client.call('svc', 'm*'))).toBe('INVALID_NAME');
    expect(await errorCodeOf(client.call('svc', 'm', [] as unknown as Record<string, unknown>))).toBe('VALIDATION_FAILED');
    expect(await errorCodeOf(client.call('svc', 'm', { big: 'x'.repeat(1_100_000) }))).toBe('PAYLOAD_TOO_LARGE');
    expect(await errorCodeOf(client.call('svc', 'm', {}, { timeoutMs: 0 }))).toBe('CONFIG_INVALID');
    expect(await errorCodeOf(client.call('svc', 'm', {}, { traceId: 'no spaces please' }))).toBe('VALIDATION_FAILED');
    expect(await errorCodeOf(client.call('svc', 'm', {}, { signal: AbortSignal.abort() }))).not.toBe('no error');
  });

  it('reports CONNECTION_FAILED when no router listens, with the trace id in its details', async () => {
    const failure = await client.call('svc', 'm', {}, { traceId: 'trace-no-router' }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'CONNECTION_FAILED', details: { service_name: 'svc', method: 'm', trace_id: 'trace-no-router' } });
  });

  it('retries a call whose reply was lost only when it is idempotent, each attempt within its share of the budget', async () => {
    // A stand-in router that loses the first request of each call (as a router that crashed
    // mid-call would) and answers every later one.
    const seen = new Map<string, number>();
    const sub = nc.subscribe(SUBJECTS.routeRequest, {
      callback: (_e, msg) => {
        const traceId = (decode(msg.data) as { trace_id: string }).trace_id;
        const n = (seen.get(traceId) ?? 0) + 1;
        seen.set(traceId, n);
        if (n > 1) msg.respond(encode({ result: `answered attempt ${n}` }));
      },
    });
    try {
      const started = performance.now();
      const answer = await client.call('svc', 'm', {}, { timeoutMs: 1_500, traceId: 'lost-reply-idempotent', retry: { idempotent: true, initialDelayMs: 10 } });
      expect(answer).toBe('answered attempt 2');
      expect(performance.now() - started).toBeLessThan(1_500 + 250);
      const once = await client.call('svc', 'm', {}, { timeoutMs: 600, traceId: 'lost-reply-not-idempotent', retry: { initialDelayMs: 10 } }).catch((e: unknown) => e);
      expect(once).toMatchObject({ code: 'TIMEOUT', callAttempts: 1 });
      expect(seen.get('lost-reply-not-idempotent')).toBe(1);
    } finally {
      sub.unsubscribe();
    }
  });

  it('times out typed, ignores a late reply, and fails calls still waiting with CLOSED on close', async () => {
    const held: Array<{ respond(data: Uint8Array): boolean }> = [];
    const sub = nc.subscribe(SUBJECTS.routeRequest, {
      callback: (_e, msg) => {
        held.push(msg);
      },
    });
    // One shared reply subscription serves every call: a reply after the timeout finds no call.
    const late = await client.call('svc', 'slow', {}, { timeoutMs: 100, traceId: 'trace-too-slow' }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'TIMEOUT', details: { service_name: 'svc', method: 'slow', trace_id: 'trace-too-slow' } });
    held.shift()?.respond(encode({ result: 'too late' }));
    const other = await connect({ nc });
    const pending = other.call('svc', 'never', {}, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await other.close();
    expect(await errorCodeOf(pending)).toBe('CLOSED');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await errorCodeOf(other.call('svc', 'm'))).toBe('CLOSED');
    sub.unsubscribe();
  });

  it('sends the documented body, no headers it does not need, and honours the signal', async () => {
    const got: Array<{ body: Record<string, unknown>; traceId: string; traceparent: string }> = [];
    const sub = nc.subscribe(SUBJECTS.routeRequest, {
      callback: (_e, msg) => {
        got.push({ body: decode(msg.data) as Record<string, unknown>, traceId: msg.headers?.get(HEADERS.traceId) ?? '', traceparent: msg.headers?.get(HEADERS.traceparent) ?? '' });
        if ((got.at(-1)?.body.method as string) === 'echo') msg.respond(encode({ result: 'routed' }));
      },
    });
    expect(await client.call('svc', 'echo', { x: 1 }, { timeoutMs: 2_000, traceId: 'b'.repeat(32), resourceId: 'r', messageId: 'm-1' })).toBe('routed');
    expect(got[0]?.body).toEqual({ service_name: 'svc', method: 'echo', params: { x: 1 }, timeout: 2, trace_id: 'b'.repeat(32), resource_id: 'r', message_id: 'm-1' });
    // The trace id travels in the body; without a live span there is no traceparent to send
    // (the router builds one from the trace id).
    expect(got[0]?.traceId).toBe('');
    expect(got[0]?.traceparent).toBe('');
    const controller = new AbortController();
    const pending = client.call('svc', 'silent', {}, { signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    expect(await errorCodeOf(pending)).toBe('CANCELLED');
    sub.unsubscribe();
  });
});
