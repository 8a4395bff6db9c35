import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { connectTestNats, createTestDatabase, deleteStreams, uniqueName, type TestDatabase } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsJetStreamSink, OutboxRelay, OutboxWriter, PgDatabase, migrate } from '@aegis-ipc/outbox';
import { ProgressHub, buildGenesisApp, createJwtVerifier, startConceptWorker } from '../src/index.js';

const SECRET = 'test-secret-of-sufficient-length-1234567890';
const ISS = 'aegis-genesis';
const AUD = 'genesis-api';

async function token(opts: { alg?: string; secret?: string; iss?: string; aud?: string; exp?: string | number } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject('user-1')
    .setIssuer(opts.iss ?? ISS)
    .setAudience(opts.aud ?? AUD)
    .setExpirationTime(opts.exp ?? '5m')
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

describe('genesis command API', () => {
  let testDb: TestDatabase;
  let db: PgDatabase;
  let nc: NatsConnection;
  let relay: OutboxRelay;
  let hub: ProgressHub;
  let app: FastifyInstance;
  let stopWorker: () => void;
  let auth: string;
  const stream = uniqueName('GENESIS');
  const topic = uniqueName('genesis').replaceAll('_', '-');

  beforeAll(async () => {
    testDb = await createTestDatabase('aegis_genesis');
    db = new PgDatabase({ connectionString: testDb.url });
    await migrate(db);
    nc = await connectTestNats('genesis-test');
    const writer = new OutboxWriter(db, { topic });
    relay = new OutboxRelay(db, await NatsJetStreamSink.create({ stream, topics: [topic] }, nc), { pollIntervalMs: 60_000 });
    await relay.start();
    hub = new ProgressHub(nc, topic);
    hub.start();
    stopWorker = startConceptWorker(hub, writer, { delayMs: 50 });
    app = buildGenesisApp({ db, writer, hub, verify: createJwtVerifier({ secret: SECRET, issuer: ISS, audience: AUD, algorithms: ['HS256'] }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    auth = `Bearer ${await token()}`;
  });
  afterAll(async () => {
    await app.close();
    stopWorker();
    hub.close();
    await relay.close();
    await db.close();
    await deleteStreams(nc, [stream]);
    await nc.close();
    await testDb.drop();
  });

  const post = (session: string, body: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/genesis/sessions/${session}/commands`, headers: { authorization: auth, ...headers }, payload: body as object });

  it('401 without a token, with an expired one, wrong iss/aud, wrong key, or an algorithm off the allow-list', async () => {
    const session = randomUUID();
    const body = { command_type: 'SubmitFeedback', payload: { feedback: 'x' } };
    const bad = [
      undefined,
      'Basic abc',
      `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 60 })}`,
      `Bearer ${await token({ iss: 'someone-else' })}`,
      `Bearer ${await token({ aud: 'other-api' })}`,
      `Bearer ${await token({ secret: 'another-secret-another-secret-another-secret' })}`,
      `Bearer ${await token({ alg: 'HS512' })}`,
      // alg none: header {"alg":"none"}, no signature
      `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u', iss: ISS, aud: AUD, exp: 9_999_999_999 })).toString('base64url')}.`,
    ];
    for (const authorization of bad) {
      const res = await app.inject({
        method: 'POST',
        url: `/genesis/sessions/${session}/commands`,
        headers: authorization === undefined ? {} : { authorization },
        payload: body,
      });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.json()).toMatchObject({ error_code: 'UNAUTHORIZED' });
    }
  });

  it('400 for a bad session id, an unknown command_type or an invalid payload', async () => {
    expect((await post('not-a-uuid', { command_type: 'SubmitFeedback', payload: { feedback: 'x' } })).statusCode).toBe(400);
    const unknown = await post(randomUUID(), { command_type: 'DeleteEverything', payload: {} });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error_code: 'UNKNOWN_COMMAND' });
    const invalid = await post(randomUUID(), { command_type: 'ConfirmStage', payload: { stage: 'NOPE' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error_code: 'VALIDATION_FAILED' });
    expect((await post(randomUUID(), { command_type: 'ConfirmStage', payload: { stage: 'WORLDVIEW' }, extra: 1 })).statusCode).toBe(400);
  });

  it('200 for a synchronous command, 202 for an accepted one, 409 with the exact OB-3 body for a duplicate', async () => {
    const session = randomUUID();
    const sync = await post(session, { command_type: 'ConfirmStage', payload: { stage: 'WORLDVIEW' } });
    expect(sync.statusCode).toBe(200);
    expect(sync.json()).toMatchObject({ status: 'COMPLETED', result: { stage: 'WORLDVIEW' } });
    expect(sync.json().event_ids).toHaveLength(1);

    const slowSession = randomUUID();
    // The worker would finish it in 50 ms; send the duplicate at once.
    const [first, second] = await Promise.all([
      post(slowSession, { command_type: 'RequestConceptGeneration', payload: { theme_preferences: ['sci-fi'] } }),
      post(slowSession, { command_type: 'RequestConceptGeneration', payload: {} }),
    ]);
    const accepted = [first, second].find((r) => r.statusCode === 202);
    const duplicate = [first, second].find((r) => r.statusCode === 409);
    expect(accepted).toBeDefined();
    expect(duplicate).toBeDefined();
    const commandId = accepted?.json().command_id as string;
    expect(duplicate?.body).toBe(
      `{"error_code":"DUPLICATE_COMMAND","message":"Command already processing","duplicate_command_id":"${commandId}"}`,
    );
  });

  it('an Idempotency-Key retry gets the first answer back', async () => {
    const session = randomUUID();
    const body = { command_type: 'SubmitFeedback', payload: { feedback: 'more dragons' } };
    const a = await post(session, body, { 'idempotency-key': 'k1' });
    const b = await post(session, body, { 'idempotency-key': 'k1' });
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(b.json()).toMatchObject({ command_id: a.json().command_id, replayed: true, event_ids: a.json().event_ids });
  });

  it('streams a session’s progress over SSE from the published events', async () => {
    const session = randomUUID();
    await post(session, { command_type: 'ConfirmStage', payload: { stage: 'CONCEPT_SELECTION' } }); // history
    const { port } = app.server.address() as AddressInfo;
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/genesis/sessions/${session}/events`, { headers: { authorization: auth }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const seen: string[] = [];
    const collect = (async () => {
      let buf = '';
      while (!seen.includes('Genesis.Session.ConceptsProposed')) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        for (const m of buf.matchAll(/^event: (.+)$/gm)) if (!seen.includes(m[1]!) || m[1] === undefined) seen.push(m[1]!);
        buf = buf.slice(buf.lastIndexOf('\n\n') + 2);
      }
    })();
    const accepted = await post(session, { command_type: 'RequestConceptGeneration', payload: {} });
    expect(accepted.statusCode).toBe(202);
    await Promise.race([collect, new Promise((_, reject) => setTimeout(() => reject(new Error(`SSE saw only ${seen.join(', ')}`)), 10_000))]);
    abort.abort();
    expect(seen).toEqual(['Genesis.Session.StageConfirmed', 'Genesis.Session.ConceptGenerationRequested', 'Genesis.Session.ConceptsProposed']);
    // the worker finished the accepted command, so the same command may be sent again
    expect((await post(session, { command_type: 'RequestConceptGeneration', payload: {} })).statusCode).toBe(202);
  });
});
