/**
 * The id of one router replica for its lifetime: `<hostname>-<pid>-<4 hex>`. Replicas share the
 * routed calls through a queue group, so diagnostics gathered from several of them (`aegis trace`)
 * say which one routed each call. Host and pid let an operator find the process; the random part
 * keeps two replicas in one process (tests, embedding) or a reused pid apart. Nothing existed to
 * reuse: the NATS client name is the same `aegis-router` for every replica, and `Ipc-Path` names
 * instances, not routers (ADR 0030).
 */
import { hostname } from 'node:os';
import { randomHex } from '@aegis-ipc/protocol';

/** A new replica id; called once per `Router.start`. */
export function newRouterId(): string {
  return `${hostname()}-${process.pid}-${randomHex(2)}`;
}
