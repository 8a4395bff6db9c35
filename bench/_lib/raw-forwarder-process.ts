/**
 * Raw 2-hop baseline (child process): the cheapest central-router design plain nats.js allows.
 * It takes requests on RAW_ROUTE_SUBJECT (queue group, like the router), forwards each to
 * RAW_TARGET_SUBJECT with a reply subject on ONE wildcard subscription carrying a correlation
 * id, and relays the answer to the caller. No per-call `request()`, no per-call timer, no
 * decoding: what is left is the minimum work any forwarder must do, so AegisIPC's routed path
 * is compared against a floor, not a straw man.
 *
 * Entries for answers that never come are dropped by one coarse sweep per second (a real
 * forwarder cannot leak them; a per-call timer would cost more than the sweep).
 */
import { connect } from '@nats-io/transport-node';
import type { Msg } from '@nats-io/nats-core';

const STALE_AFTER_MS = 10_000;

const routeSubject = process.env.RAW_ROUTE_SUBJECT;
const targetSubject = process.env.RAW_TARGET_SUBJECT;
if (routeSubject === undefined || targetSubject === undefined) throw new Error('RAW_ROUTE_SUBJECT and RAW_TARGET_SUBJECT are required');

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-raw-forwarder' });
const replyPrefix = `_FWD.${globalThis.crypto.randomUUID().replaceAll('-', '')}.`;
const pending = new Map<number, { msg: Msg; at: number }>();
let nextId = 0;

nc.subscribe(`${replyPrefix}*`, {
  callback: (err, answer) => {
    if (err !== null) return;
    const id = Number(answer.subject.slice(replyPrefix.length));
    const entry = pending.get(id);
    if (entry === undefined) return;
    pending.delete(id);
    entry.msg.respond(answer.data);
  },
});
nc.subscribe(routeSubject, {
  queue: 'bench-raw-forwarder',
  callback: (err, msg) => {
    if (err !== null || msg.reply === undefined) return;
    const id = nextId++;
    pending.set(id, { msg, at: Date.now() });
    nc.publish(targetSubject, msg.data, { reply: `${replyPrefix}${id}` });
  },
});
await nc.flush();

const sweep = setInterval(() => {
  const cutoff = Date.now() - STALE_AFTER_MS;
  for (const [id, entry] of pending) if (entry.at < cutoff) pending.delete(id);
}, 1_000);
sweep.unref();

const stop = () => void nc.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdout.write('READY\n');
