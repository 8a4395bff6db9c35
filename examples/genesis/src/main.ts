/**
 * Runs the genesis command API: `node --conditions=source --import tsx examples/genesis/src/main.ts`.
 *
 * Storage: `DATABASE_URL` (PostgreSQL) or embedded PGlite under `./.aegis/pg`. The relay runs in
 * this process by default (`GENESIS_EMBEDDED_RELAY`), which PGlite requires; with PostgreSQL you
 * may set it to false and run `aegis relay` separately (several, even).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import { connect } from '@nats-io/transport-node';
import { resolveSettings } from '@aegis-ipc/protocol';
import { startTracing } from '@aegis-ipc/router/tracing';
import { NatsJetStreamSink, OutboxRelay, OutboxWriter, migrate, openDatabase, resolveOutboxSettings } from '@aegis-ipc/outbox';
import { buildGenesisApp } from './genesis-app.js';
import { createJwtVerifier } from './jwt-auth.js';
import { ProgressHub } from './progress-hub.js';
import { startConceptWorker } from './concept-worker.js';
import { GENESIS_SETTINGS } from './settings.js';

const settings = resolveSettings(GENESIS_SETTINGS, process.env);
const outbox = resolveOutboxSettings(process.env);
const logger = pino({ name: 'genesis', level: outbox.logLevel });
// OTEL_TRACES_EXPORTER=otlp|console turns export on: a command's HTTP traceparent, its write,
// and the relay's publish then show as one trace (off by default).
const tracing = startTracing('genesis-api');

const db = await openDatabase({ databaseUrl: outbox.databaseUrl, pgliteDir: outbox.pgliteDir, poolSize: outbox.poolSize, applicationName: 'genesis-api', logger });
await migrate(db);
const writer = new OutboxWriter(db, { topic: outbox.topic, isolation: outbox.isolation, logger });
const nc = await connect({ servers: outbox.natsUrl, name: 'genesis-api' });

let relay: OutboxRelay | undefined;
if (settings.embeddedRelay) {
  const sink = await NatsJetStreamSink.create({ stream: outbox.stream, topics: [outbox.topic], publishTimeoutMs: outbox.publishTimeoutMs }, nc);
  relay = new OutboxRelay(db, sink, { pollIntervalMs: Math.round(outbox.pollInterval * 1000), batchSize: outbox.batchSize, logger });
  await relay.start();
}

const hub = new ProgressHub(nc, outbox.topic);
hub.start();
const stopWorker = startConceptWorker(hub, writer, { logger });

const secret = settings.jwtSecret ?? randomBytes(32).toString('base64url');
const verify = createJwtVerifier({ secret, issuer: settings.jwtIssuer, audience: settings.jwtAudience, algorithms: settings.jwtAlgorithms.split(',').map((a) => a.trim()) });
const app = buildGenesisApp({ db, writer, hub, verify });
await app.listen({ host: settings.host, port: settings.port });
logger.info({ url: `http://${settings.host}:${settings.port}`, storage: db.kind, embedded_relay: settings.embeddedRelay }, 'genesis API listening');

if (settings.jwtSecret === undefined) {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dev-user')
    .setIssuer(settings.jwtIssuer)
    .setAudience(settings.jwtAudience)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
  process.stdout.write(`JWT_SECRET unset: random secret in use. Dev token (1 h):\n${token}\n`);
}

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await app.close();
    stopWorker();
    hub.close();
    await relay?.close(); // drains the batch in flight
    await nc.drain();
    await db.close();
    await tracing.shutdown();
    process.exit(0);
  })();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
