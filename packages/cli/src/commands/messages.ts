/**
 * `aegis messages status|dlq|replay` — exactly-once calls (EO-5) over the admin API: the state of
 * a message id, the dead letters, and re-running a FAILED message.
 */
import type { Command } from 'commander';
import { adminRequest } from '../admin-client.js';
import { limitOption } from '../option-parsers.js';
import { printJson, printTable, type OutputOptions } from '../output.js';

interface MessageStatus {
  message_id: string;
  service_name: string;
  method: string;
  state: string;
  retry_count: number;
  last_error: string | null;
  trace_id: string;
  created_at: string;
  updated_at: string;
  instance_id?: string | null;
  response?: unknown;
  replays?: number;
}

interface DeadLetter {
  dlq_seq: number;
  message_id: string;
  service_name: string;
  method: string;
  last_error: string | null;
  deliveries: number;
  dead_lettered_at: string | null;
}

function printStatus(s: MessageStatus): void {
  const rows: Array<[string, unknown]> = [
    ['message_id', s.message_id], ['state', s.state], ['service', `${s.service_name}.${s.method}`], ['retry_count', s.retry_count],
    ['last_error', s.last_error], ['instance_id', s.instance_id], ['trace_id', s.trace_id], ['created_at', s.created_at],
    ['updated_at', s.updated_at], ['replays', s.replays ?? 0], ['response', s.response],
  ];
  printTable(rows.map(([field, value]) => ({ field, value })), ['field', 'value']);
}

export function register(program: Command): void {
  const messages = program.command('messages').description('exactly-once calls: message status, dead letters, replay');

  messages
    .command('status <message_id>')
    .description('state of a message id: PENDING, ACKNOWLEDGED (with the response), FAILED or EXPIRED')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: OutputOptions) => {
      const status = await adminRequest<MessageStatus>(`/api/v1/admin/messages/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(status);
      printStatus(status);
    });

  messages
    .command('dlq')
    .description('dead-lettered exactly-once calls (oldest first)')
    .option('--limit <n>', 'most entries to list', limitOption, 100)
    .option('--json', 'print JSON')
    .action(async (opts: OutputOptions & { limit: number }) => {
      const list = await adminRequest<{ dead_letters: DeadLetter[] }>('/api/v1/admin/messages/dlq', { query: { limit: opts.limit } });
      if (opts.json) return printJson(list);
      if (list.dead_letters.length === 0) return void process.stdout.write('no dead letters\n');
      printTable(
        list.dead_letters.map((d) => ({ ...d, target: `${d.service_name}.${d.method}`, at: d.dead_lettered_at })),
        ['message_id', 'target', 'deliveries', 'at', 'last_error'],
      );
    });

  messages
    .command('replay <message_id>')
    .description('re-run a FAILED message from its dead letter (state back to PENDING)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: OutputOptions) => {
      const status = await adminRequest<MessageStatus>(`/api/v1/admin/messages/${encodeURIComponent(id)}/replay`, { method: 'POST' });
      if (opts.json) return printJson(status);
      process.stdout.write(`replayed ${status.message_id} (${status.service_name}.${status.method}): ${status.state}, replay #${status.replays ?? 1}\n`);
    });
}
