/**
 * The arrangement of the router's MAX_DELIVERIES watcher tests (ADR 0051): a service whose
 * consumer a real ReliableReceiver created (small ack wait, `maxRetries: 0` → `max_deliver` 2),
 * the receiver then gone, and a "zombie" that keeps pull requests open without ever acking — what
 * a frozen process, or a SIGKILLed one whose pull requests NATS 2.9 still serves, looks like to
 * the broker. Every delivery of a request, the spare included, goes to the zombie, so the server
 * emits the advisory and only the watcher can park it. Also reads what the watcher leaves behind:
 * the status, the dead letters, the request stream.
 */
import { jetstream, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { expect } from 'vitest';
import { pino } from 'pino';
import { HEADERS, NAMESPACE, SUBJECTS } from '@aegis-ipc/protocol';
import { connectTestNats, deleteBuckets, deleteStreams, errorCodeOf, waitFor } from '@aegis-ipc/testing';
import {
  MESSAGE_STATUS_BUCKET,
  RELIABLE_DLQ_STREAM,
  RELIABLE_STREAM,
  ReliableReceiver,
  consumerNameOf,
  requestReply,
  type AegisClient,
  type MessageStatus,
  type ReliableDeadLetter,
  type ReliableReceiverOptions,
} from '@aegis-ipc/sdk';
import type { Router } from '@aegis-ipc/router';

const silent = pino({ level: 'silent' });

/** A service whose handler `work` answers `{ done: n }`, with the receiver that created its consumer. */
export interface ServiceWithReceiver {
  readonly receiver: ReliableReceiver;
  /** How many times the handler ran, over every receiver of the service. */
  runs(): number;
  /** Starts another receiver on the same instance and options (the first one closed, say). */
  receiveAgain(): Promise<ReliableReceiver>;
}

/** A consumer of the service's deliveries that never acks. */
export interface Zombie {
  /** The delivery count of each delivery it took, in order. */
  readonly deliveries: number[];
  /** Stops pulling and waits until the server holds none of its pull requests any more. */
  stop(): Promise<void>;
}

export interface StalledRequestArrangement {
  serviceWithReceiver(service: string, ackTimeoutMs: number, beforeAck?: () => 'drop' | undefined): Promise<ServiceWithReceiver>;
  /** Closes the receiver and waits until the server holds none of its pull requests any more. */
  receiverGone(service: string, receiver: ReliableReceiver): Promise<void>;
  startZombie(service: string): Promise<Zombie>;
  /**
   * The status served on `ipc.message.status`, through the same `requestReply` any SDK caller
   * uses: the status comes wrapped in `message_status`, so a FAILED status (which has an `error`
   * field) is not mistaken for an error reply.
   */
  status(messageId: string): Promise<MessageStatus>;
  /** The dead letters of `messageId` as the router's admin API lists them. */
  deadLettersOf(messageId: string): Promise<ReliableDeadLetter[]>;
  /** The stream sequence of `messageId`'s request, or undefined once it left the request stream. */
  requestSeq(service: string, messageId: string): Promise<number | undefined>;
  /** Closes the zombies and receivers it started. */
  close(): Promise<void>;
}

export function stalledRequestArrangement(router: Router, nc: NatsConnection, client: AegisClient, jsm: JetStreamManager): StalledRequestArrangement {
  const receivers: ReliableReceiver[] = [];
  const zombies: ConsumerMessages[] = [];

  async function pullsGone(service: string, what: string): Promise<void> {
    await waitFor(async () => (await jsm.consumers.info(RELIABLE_STREAM, consumerNameOf(service))).num_waiting === 0, { timeoutMs: 10_000, what });
  }

  return {
    async serviceWithReceiver(service, ackTimeoutMs, beforeAck) {
      let runs = 0;
      const instance = await client.register(service, `${service}-1`);
      instance.handle('work', ({ n }) => {
        runs++;
        return { done: n };
      });
      const options: ReliableReceiverOptions = {
        idempotency: { statusRecord: true }, ackTimeoutMs, maxRetries: 0, backoffInitialMs: 0, backoffMaxMs: 0, logger: silent, beforeAck,
      };
      const receiveAgain = async () => {
        const receiver = await ReliableReceiver.start(instance, options);
        receivers.push(receiver);
        return receiver;
      };
      return { receiver: await receiveAgain(), runs: () => runs, receiveAgain };
    },

    async receiverGone(service, receiver) {
      await receiver.close();
      await pullsGone(service, 'the receiver pull requests to expire');
    },

    async startZombie(service) {
      const consumer = await jetstream(nc).consumers.get(RELIABLE_STREAM, consumerNameOf(service));
      const messages = await consumer.consume({ max_messages: 8, expires: 1_000 });
      zombies.push(messages);
      const deliveries: number[] = [];
      void (async () => {
        for await (const m of messages) deliveries.push(m.info.deliveryCount);
      })();
      return {
        deliveries,
        async stop() {
          zombies.splice(zombies.indexOf(messages), 1);
          await messages.close();
          await pullsGone(service, 'the zombie pull requests to expire');
        },
      };
    },

    async status(messageId) {
      const body = (await requestReply<{ message_status: MessageStatus }>(nc, SUBJECTS.messageStatus, { message_id: messageId }, { timeoutMs: 5_000 })).message_status;
      expect(body.state).toBeTypeOf('string');
      return body;
    },

    async deadLettersOf(messageId) {
      const res = await fetch(`${router.url}/api/v1/admin/messages/dlq`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { dead_letters: ReliableDeadLetter[] }).dead_letters.filter((d) => d.message_id === messageId);
    },

    async requestSeq(service, messageId) {
      const sm = await jsm.streams.getMessage(RELIABLE_STREAM, { last_by_subj: `${NAMESPACE}.reliable.${service}.work.${messageId}` }).catch(() => null);
      return sm?.seq;
    },

    async close() {
      for (const z of zombies) await z.close();
      await Promise.all(receivers.map((r) => r.close()));
    },
  };
}

/** Deletes the (namespaced) reliable streams and the status bucket a test file created. */
export async function deleteReliableState(): Promise<void> {
  const admin = await connectTestNats();
  await deleteStreams(admin, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
  await deleteBuckets(admin, [MESSAGE_STATUS_BUCKET]);
  await admin.close();
}

/** The error code `call` rejects with, or `no answer within <ms> ms` — a hang, bounded. */
export async function answerWithin(call: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([errorCodeOf(call), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `Ipc-Message-Id` of every message on the dead-letter subject of `service`.work, read from the stream itself. */
export async function deadLetterIdsOf(jsm: JetStreamManager, service: string): Promise<string[]> {
  const subject = `${NAMESPACE}.reliable-dlq.${service}.work`;
  const info = await jsm.streams.info(RELIABLE_DLQ_STREAM, { subjects_filter: subject });
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const sm = await jsm.streams.getMessage(RELIABLE_DLQ_STREAM, { seq }).catch(() => null);
    if (sm?.subject === subject) ids.push(sm.header?.get(HEADERS.messageId) ?? '');
  }
  // The subject's own count agrees with what was read (no message skipped by a gap in sequences).
  expect(ids).toHaveLength(info.state.subjects?.[subject] ?? 0);
  return ids;
}
