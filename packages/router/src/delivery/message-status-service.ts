/**
 * Serves `ipc.message.status` (EO-5) in the router queue group: any replica answers, since the
 * states live in the shared KV bucket, not in the router. Request `{ message_id }`; reply the
 * status or `{ error }` with MESSAGE_NOT_FOUND. Also runs the watcher that parks requests which
 * reached max_deliver without an instance parking them.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { AegisError, QUEUE_GROUPS, SUBJECTS, decode, encode, errorReply, isIdToken } from '@aegis-ipc/protocol';
import { DEFAULT_STATUS_TTL_MS, guardedCallback, MessageStatusStore, type MessageStatus } from '@aegis-ipc/sdk';
import { StalledRequestWatcher, type AbandonedParks } from './stalled-request-watcher.js';

export class MessageStatusService {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  #store: Promise<MessageStatusStore> | undefined;
  #sub: Subscription | undefined;
  readonly #watcher: StalledRequestWatcher;

  constructor(nc: NatsConnection, logger: Logger, abandonedParks: AbandonedParks) {
    this.#nc = nc;
    this.#log = logger;
    this.#watcher = new StalledRequestWatcher(nc, this, logger, abandonedParks);
  }

  /** The status bucket, opened (created if absent) on first use; retried after a failure. */
  store(): Promise<MessageStatusStore> {
    this.#store ??= MessageStatusStore.open(this.#nc, DEFAULT_STATUS_TTL_MS);
    this.#store.catch(() => (this.#store = undefined));
    return this.#store;
  }

  /**
   * The status of `messageId`.
   * @throws AegisError `MESSAGE_NOT_FOUND`, `STORAGE_FAILURE`
   */
  async get(messageId: string): Promise<MessageStatus> {
    const status = await (await this.store()).get(messageId);
    if (status === undefined) throw new AegisError('MESSAGE_NOT_FOUND', `no status for message ${messageId} (never sent, or older than the status TTL)`, { details: { message_id: messageId } });
    return status;
  }

  start(): void {
    this.#watcher.start();
    this.#sub = this.#nc.subscribe(SUBJECTS.messageStatus, {
      queue: QUEUE_GROUPS.router,
      callback: guardedCallback((err, msg) => {
        if (err || !msg.reply) return;
        const answer = async () => {
          try {
            const body = decode(msg.data, { maxBytes: 4096 }) as { message_id?: unknown } | null;
            const id = body?.message_id;
            if (!isIdToken(id)) {
              throw new AegisError('VALIDATION_FAILED', 'message_id must be 1…64 characters of [A-Za-z0-9_-]', { details: { fields: [{ path: '/message_id', message: 'invalid message id' }] } });
            }
            // Wrapped: a FAILED status has an `error` field of its own, and a reply with an `error`
            // key is an error reply by the protocol's rule (docs/protocol.md, Conventions).
            msg.respond(encode({ message_status: await this.get(id) }));
          } catch (e) {
            msg.respond(encode(errorReply(e)));
          }
        };
        answer().catch((e: unknown) => this.#log.warn({ err: e }, 'message status reply failed'));
      }, (err) => this.#log.error({ err }, 'a subscription callback threw; that message was dropped')),
    });
  }

  close(): void {
    this.#sub?.unsubscribe();
    this.#watcher.close();
  }
}
