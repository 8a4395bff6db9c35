/**
 * `aegis events stats|dlq|replay` — operate the event bus: pending and lag per topic/group, the
 * dead letters, and re-publishing them. Talks to NATS/Redis directly (settings from the
 * environment: NATS_URL, REDIS_URL, AEGIS_EVENTS_*).
 */
import type { Command } from 'commander';
import { AegisError, openEventBus, type TransportName } from '@aegis-ipc/sdk';
import { limitOption } from '../option-parsers.js';
import { printJson, printTable } from '../output.js';

interface EventsOptions {
  transport?: string;
  json?: boolean;
}

function transportOf(opts: EventsOptions): TransportName {
  const t = opts.transport ?? process.env.AEGIS_EVENTS_TRANSPORT ?? 'nats';
  if (t !== 'nats' && t !== 'redis') {
    throw new AegisError('CONFIG_INVALID', `--transport must be nats or redis, got ${t}`, { details: { option: 'transport', value: t } });
  }
  return t;
}

async function withBus<T>(opts: EventsOptions, work: (bus: Awaited<ReturnType<typeof openEventBus>>['bus'], t: TransportName) => Promise<T>): Promise<T> {
  const t = transportOf(opts);
  const opened = await openEventBus([t]);
  try {
    return await work(opened.bus, t);
  } finally {
    await opened.close();
  }
}

export function register(program: Command): void {
  const events = program.command('events').description('inspect and operate QoS events: stats, dead letters, replay');

  events
    .command('stats')
    .description('pending and consumer lag per topic and group')
    .option('--transport <nats|redis>', 'broker (default AEGIS_EVENTS_TRANSPORT or nats)')
    .option('--json', 'print JSON')
    .action((opts: EventsOptions) =>
      withBus(opts, async (bus, t) => {
        const rows = await bus.stats(t);
        if (opts.json) return printJson({ transport: t, groups: rows });
        if (rows.length === 0) return void process.stdout.write('no consumer groups\n');
        printTable(rows as unknown as Array<Record<string, unknown>>, ['topic', 'group', 'pending', 'lag']);
      }),
    );

  events
    .command('dlq')
    .description('list dead-lettered events (oldest first)')
    .option('--transport <nats|redis>', 'broker (default AEGIS_EVENTS_TRANSPORT or nats)')
    .option('--limit <n>', 'most entries to list', limitOption, 100)
    .option('--json', 'print JSON')
    .action((opts: EventsOptions & { limit: number }) =>
      withBus(opts, async (bus, t) => {
        const list = await bus.deadLetters({ transport: t, limit: opts.limit });
        if (opts.json) return printJson({ transport: t, dead_letters: list });
        if (list.length === 0) return void process.stdout.write('no dead letters\n');
        printTable(
          list.map((d) => ({ ...d, at: new Date(d.deadLetteredAt).toISOString(), deliveries: d.deliveryCount, message_id: d.messageId })),
          ['id', 'topic', 'group', 'message_id', 'deliveries', 'at', 'error'],
        );
      }),
    );

  events
    .command('replay [id]')
    .description('re-publish a dead letter (or --all) to its topic and remove it from the dead letters')
    .option('--all', 'replay every dead letter')
    .option('--transport <nats|redis>', 'broker (default AEGIS_EVENTS_TRANSPORT or nats)')
    .option('--json', 'print JSON')
    .action((id: string | undefined, opts: EventsOptions & { all?: boolean }) =>
      withBus(opts, async (bus, t) => {
        if ((id === undefined) === (opts.all !== true)) {
          throw new AegisError('CONFIG_INVALID', 'give either a dead-letter id or --all', { details: { option: 'id' } });
        }
        const replayed = id !== undefined ? ((await bus.replay(id, { transport: t })) ? 1 : 0) : await bus.replayAll({ transport: t });
        if (id !== undefined && replayed === 0) throw new AegisError('NOT_FOUND', `no dead letter ${id} on ${t}`, { details: { id } });
        if (opts.json) return printJson({ transport: t, replayed });
        process.stdout.write(`replayed ${replayed} event(s) on ${t}\n`);
      }),
    );
}
