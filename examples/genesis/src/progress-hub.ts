/**
 * Fans published events out to SSE clients by session (SPEC OB-7: progress in real time, from
 * the published events — not from the database). One core-NATS subscription on `<topic>.>`
 * sees every event the relay stores in JetStream.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { DomainEvent } from '@aegis-ipc/outbox';

type Listener = (event: DomainEvent) => void;

export class ProgressHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly globals = new Set<Listener>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly topic: string,
  ) {}

  start(): void {
    const sub = this.nc.subscribe(`${this.topic}.>`);
    this.sub = sub;
    void (async () => {
      for await (const msg of sub) {
        let event: DomainEvent;
        try {
          event = msg.json<DomainEvent>();
        } catch {
          continue; // not one of ours
        }
        for (const l of this.globals) l(event);
        for (const l of this.listeners.get(event.aggregate_id) ?? []) l(event);
      }
    })();
  }

  /** Calls `listener` for each event of `sessionId` until the returned function is called. */
  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (set === undefined) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Calls `listener` for every event (the concept worker uses this). */
  subscribeAll(listener: Listener): () => void {
    this.globals.add(listener);
    return () => this.globals.delete(listener);
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}
