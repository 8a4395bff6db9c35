/**
 * Runs one instance of the echo example service as its own process — what the demo, the routing
 * benchmark and the fault tests start, SIGKILL and SIGSTOP.
 *
 *   node --conditions=source --import tsx examples/echo/src/echo-service.ts \
 *     [--service echo] [--instance echo-1] [--nats nats://127.0.0.1:4222]
 *
 * Each flag falls back to an environment variable (ECHO_SERVICE_NAME, ECHO_INSTANCE_ID,
 * NATS_URL). Once registered it prints exactly one line, `READY <instance_id>`, on stdout so a
 * parent can wait for it; SIGTERM/SIGINT unregister (the router marks it OFFLINE) and exit 0.
 */
import { parseArgs } from 'node:util';
import { connect } from '@aegis-ipc/sdk';
import { serveEcho } from './echo-handlers.js';

/** Defaults of the flags, defined once. */
export const ECHO_DEFAULTS = {
  service: 'echo',
  nats: 'nats://127.0.0.1:4222',
} as const;

const { values } = parseArgs({
  options: {
    service: { type: 'string' },
    instance: { type: 'string' },
    nats: { type: 'string' },
  },
  strict: true,
});
const serviceName = values.service ?? process.env.ECHO_SERVICE_NAME ?? ECHO_DEFAULTS.service;
const instanceId = values.instance ?? process.env.ECHO_INSTANCE_ID ?? `${serviceName}-${process.pid}`;
const natsUrl = values.nats ?? process.env.NATS_URL ?? ECHO_DEFAULTS.nats;

try {
  const client = await connect({ servers: natsUrl, name: `echo-service:${instanceId}` });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    client
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`echo-service ${instanceId}: closing after ${signal} failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  // Handlers are attached before anything else can run, so the router never reaches an
  // instance that is registered but not yet serving.
  serveEcho(await client.register(serviceName, instanceId, { example: 'echo', pid: process.pid }));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`READY ${instanceId}\n`);
} catch (err) {
  process.stderr.write(`echo-service ${instanceId}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
