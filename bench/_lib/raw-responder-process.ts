/**
 * Raw baseline responder (child process): a plain nats.js subscription that answers every
 * request with the bytes it received — the cheapest possible "service instance".
 *
 *   RAW_SUBJECT=bench.x.svc NATS_URL=… node --conditions=source --import tsx raw-responder-process.ts
 *
 * Prints `READY` once subscribed (after a flush, so the server knows the interest); exits on
 * SIGTERM/SIGINT.
 */
import { connect } from '@nats-io/transport-node';

const subject = process.env.RAW_SUBJECT;
if (subject === undefined) throw new Error('RAW_SUBJECT is required');
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-raw-responder' });
nc.subscribe(subject, {
  callback: (err, msg) => {
    if (err === null) msg.respond(msg.data);
  },
});
await nc.flush();
const stop = () => void nc.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdout.write('READY\n');
