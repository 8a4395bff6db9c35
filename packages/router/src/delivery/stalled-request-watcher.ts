/**
 * Watches the MAX_DELIVERIES advisories of the reliable request stream and parks the requests
 * no instance parked (ADR 0051). Router replicas share the work through the router queue group.
 * The advisory is core NATS: one missed while no router runs leaves that message PENDING in the
 * stream (never lost); docs/guarantees.md says so.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { QUEUE_GROUPS } from '@aegis-ipc/protocol';
import { maxDeliveriesAdvisorySubject, parkStalledRequest } from '@aegis-ipc/sdk';
import type { MessageStatusService } from './message-status-service.js';

export class StalledRequestWatcher {
  #sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly statuses: MessageStatusService,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#sub = this.nc.subscribe(maxDeliveriesAdvisorySubject(), {
      queue: QUEUE_GROUPS.router,
      callback: (err, msg) => {
        if (err) return;
        let advisory: { stream_seq?: unknown; deliveries?: unknown };
        try {
          advisory = msg.json();
        } catch {
          return;
        }
        const seq = Number(advisory.stream_seq);
        if (!Number.isInteger(seq) || seq <= 0) return;
        const park = async () => {
          const messageId = await parkStalledRequest(this.nc, await this.statuses.store(), seq, Number(advisory.deliveries) || 0);
          if (messageId !== undefined) this.log.warn({ event: 'message_dead_lettered', message_id: messageId, stream_seq: seq }, 'no instance parked a request past max_deliver; parked it FAILED');
        };
        park().catch((e: unknown) => this.log.error({ err: e, stream_seq: seq }, 'could not park a stalled reliable request'));
      },
    });
  }

  close(): void {
    this.#sub?.unsubscribe();
  }
}
