/**
 * A service instance driven by hand over the raw wire protocol (docs/protocol.md), as one written
 * in another language would be: it registers, heartbeats only between `start()` and `stop()`, and,
 * when asked, answers calls on its inbox with its own id. Health, registry and retirement tests use
 * it to stop and resume heartbeats at exact moments, which the SDK's instance does not expose.
 */
import { expect } from 'vitest';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { SUBJECTS, decode, encode, heartbeatSubject, instanceInboxSubject } from '@aegis-ipc/protocol';
import { uniqueName } from '@aegis-ipc/testing';

export interface RawProtocolInstanceOptions {
  /** How often it heartbeats once started (ms). @default the declared interval, else 1000 */
  readonly beatEveryMs?: number;
  /** `heartbeat_interval_ms` sent at registration; omitted when undefined. */
  readonly declaredIntervalMs?: number;
  /** Answer calls on the inbox with `{ result: <instance id> }`. @default false */
  readonly answersCalls?: boolean;
  /** Id prefix. @default 'hb' */
  readonly idPrefix?: string;
}

export interface RawProtocolInstance {
  readonly id: string;
  readonly session: string;
  /** The registration reply. */
  readonly reply: Record<string, unknown>;
  /** `Date.now()` of the last heartbeat sent (0 before the first). */
  readonly lastBeatAt: number;
  /** Heartbeats now and then every `beatEveryMs`. */
  start(): void;
  /** Stops heartbeating (the instance stays registered). */
  stop(): void;
  /** Stops heartbeating and answering. */
  close(): void;
}

/** Registers an instance of `service` over `nc`; the registration must succeed. */
export async function rawProtocolInstance(nc: NatsConnection, service: string, options: RawProtocolInstanceOptions = {}): Promise<RawProtocolInstance> {
  const id = uniqueName(options.idPrefix ?? 'hb');
  const session = uniqueName('session');
  const inbox: Subscription | undefined = options.answersCalls
    ? nc.subscribe(instanceInboxSubject(id), { callback: (_e, m) => void m.respond(encode({ result: id })) })
    : undefined;
  const request = { service_name: service, instance_id: id, session_id: session, ...(options.declaredIntervalMs === undefined ? {} : { heartbeat_interval_ms: options.declaredIntervalMs }) };
  const reply = decode((await nc.request(SUBJECTS.register, encode(request), { timeout: 5_000 })).data) as Record<string, unknown>;
  expect(reply['error']).toBeUndefined();
  const beatEveryMs = options.beatEveryMs ?? options.declaredIntervalMs ?? 1_000;
  let timer: NodeJS.Timeout | undefined;
  let lastBeatAt = 0;
  const beat = () => {
    if (nc.isClosed()) {
      clearInterval(timer); // the test is over: a publish would throw from the timer
      return;
    }
    lastBeatAt = Date.now();
    nc.publish(heartbeatSubject(service, id), encode({ session_id: session }));
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    id,
    session,
    reply,
    get lastBeatAt() {
      return lastBeatAt;
    },
    start() {
      beat();
      timer ??= setInterval(beat, beatEveryMs);
    },
    stop,
    close() {
      stop();
      inbox?.unsubscribe();
    },
  };
}
