/**
 * Optional outbox backlog for the admin API and dashboard: when the router is given the outbox's
 * PostgreSQL URL it reads the same figures as `aegis outbox stats`, through the outbox package's
 * public `stats()`. The package is imported on first use, so a router without an outbox loads
 * none of it; one pooled connection and a 1 s cache keep a polling dashboard cheap.
 */
import type { Logger } from 'pino';

/** Backlog figures in the admin API's snake_case shape. */
export interface OutboxBacklog {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  readonly oldest_pending_age_seconds: number;
}

export interface OutboxStatsSource {
  read(): Promise<OutboxBacklog>;
  close(): Promise<void>;
}

/** Figures younger than this are served from memory: every dashboard polls every ~1.5 s. */
const CACHE_MS = 1_000;

/**
 * Creates the source. Nothing is connected until the first `read()`.
 * @param databaseUrl PostgreSQL URL of the outbox tables. The embedded PGlite cannot be shared
 * between processes, so it is not supported here.
 */
export function outboxStatsSource(databaseUrl: string, logger: Logger): OutboxStatsSource {
  let db: Promise<{ close(): Promise<void>; read(): Promise<OutboxBacklog> }> | undefined;
  let cached: { at: number; value: Promise<OutboxBacklog> } | undefined;
  const open = async () => {
    const outbox = await import('@aegis-ipc/outbox');
    const database = await outbox.openDatabase({ databaseUrl, poolSize: 1, applicationName: 'aegis-router-admin', logger });
    return {
      close: () => database.close(),
      read: async (): Promise<OutboxBacklog> => {
        const s = await outbox.stats(database);
        return { pending: s.pending, sent: s.sent, failed: s.failed, oldest_pending_age_seconds: s.oldestPendingAgeSeconds };
      },
    };
  };
  return {
    read() {
      const now = Date.now();
      if (cached !== undefined && now - cached.at < CACHE_MS) return cached.value;
      db ??= open();
      const value = db.then((d) => d.read());
      // A failed read is not cached: the next poll tries again.
      value.catch(() => (cached = undefined));
      cached = { at: now, value };
      return value;
    },
    async close() {
      const pending = db;
      db = undefined;
      if (pending !== undefined) await (await pending.catch(() => undefined))?.close();
    },
  };
}
