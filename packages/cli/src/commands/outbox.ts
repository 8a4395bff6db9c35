/**
 * `aegis outbox failed|replay|stats` — operate the transactional outbox: list FAILED rows with
 * their error, requeue them after the broker recovers, and show the backlog. Reads the same
 * database as the relay (`DATABASE_URL`, or the embedded PGlite under `AEGIS_PG_DIR` — which
 * only one process may open: stop the app first in that mode).
 */
import type { Command } from 'commander';
import { AegisError } from '@aegis-ipc/protocol';
import { listFailed, openOutboxDatabase, replayFailed, resolveOutboxSettings, stats, type Database } from '@aegis-ipc/outbox';
import { limitOption } from '../option-parsers.js';
import { printJson, printTable, type OutputOptions } from '../output.js';

async function withOutbox<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const settings = resolveOutboxSettings(process.env);
  const db = await openOutboxDatabase(settings, { poolSize: 2, applicationName: 'aegis-cli' });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function parseIds(ids: readonly string[]): number[] {
  return ids.map((raw) => {
    const id = Number(raw);
    if (!Number.isSafeInteger(id) || id < 1) {
      throw new AegisError('VALIDATION_FAILED', `outbox id must be a positive integer, got ${JSON.stringify(raw)}`, {
        details: { fields: [{ path: '/id', message: 'positive integer' }] },
      });
    }
    return id;
  });
}

export function register(program: Command): void {
  const outbox = program.command('outbox').description('inspect and operate the transactional outbox: failed rows, replay, backlog');

  outbox
    .command('failed')
    .description('list FAILED outbox rows (oldest first) with their last error')
    .option('--limit <n>', 'most rows to list', limitOption, 100)
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { limit: number }) =>
      withOutbox(async (db) => {
        const rows = await listFailed(db, opts.limit);
        if (opts.json) return printJson({ failed: rows });
        if (rows.length === 0) return void process.stdout.write('no failed outbox rows\n');
        printTable(
          rows.map((r) => ({ id: r.id, event_id: r.eventId, key: r.key, event_type: r.eventType, attempts: r.attempts, created_at: r.createdAt.toISOString(), last_error: r.lastError })),
          ['id', 'event_id', 'key', 'event_type', 'attempts', 'created_at', 'last_error'],
        );
      }),
    );

  outbox
    .command('replay')
    .description('requeue FAILED rows as PENDING (by id, or --all); relays pick them up at once')
    .argument('[ids...]', 'outbox row ids (see `aegis outbox failed`)')
    .option('--all', 'requeue every FAILED row')
    .option('--json', 'print JSON')
    .action((ids: string[], opts: OutputOptions & { all?: boolean }) =>
      withOutbox(async (db) => {
        if (opts.all !== true && ids.length === 0) {
          throw new AegisError('VALIDATION_FAILED', 'give outbox ids to replay, or --all', { details: { fields: [{ path: '/ids', message: 'required' }] } });
        }
        const requeued = await replayFailed(db, opts.all === true ? undefined : parseIds(ids));
        if (opts.json) return printJson({ requeued });
        process.stdout.write(`requeued ${requeued.length} row(s)${requeued.length > 0 ? `: ${requeued.join(', ')}` : ''}\n`);
      }),
    );

  outbox
    .command('stats')
    .description('outbox backlog: pending, sent, failed, oldest pending age')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions) =>
      withOutbox(async (db) => {
        const s = await stats(db);
        if (opts.json) return printJson({ pending: s.pending, sent: s.sent, failed: s.failed, oldest_pending_age_seconds: s.oldestPendingAgeSeconds });
        printTable([{ pending: s.pending, sent: s.sent, failed: s.failed, oldest_pending_age_s: s.oldestPendingAgeSeconds.toFixed(3) }], ['pending', 'sent', 'failed', 'oldest_pending_age_s']);
      }),
    );
}
