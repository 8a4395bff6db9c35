/**
 * `aegis health [service]` — live instance health and recent state changes (RT-8);
 * `--check` pings the instances now and reports who answered.
 */
import type { Command } from 'commander';
import { adminRequest } from '../admin-client.js';
import { limitOption } from '../option-parsers.js';
import { printJson, printTable, type OutputOptions } from '../output.js';

interface HealthView {
  services: Array<{ service_name: string; instances: Array<{ instance_id: string; status: string; status_reason?: string; updated_at: string }> }>;
  history: Array<{ at: string; service_name: string; instance_id: string; from: string | null; to: string; reason: string }>;
}
interface CheckView {
  results: Array<{ service_name: string; instance_id: string; reachable: boolean; latency_ms: number | null; status: string }>;
}

/** What an empty answer means: nothing at all registered, or nothing of the service asked for (a typo?). */
function nothingRegistered(service: string | undefined): string {
  return service === undefined ? 'no instances registered' : `no instances of service "${service}" registered`;
}

export function register(program: Command): void {
  program
    .command('health [service]')
    .description('instance health and recent state changes; --check pings instances now')
    .option('--check', 'ping every instance now; silent ones are marked UNHEALTHY')
    .option('--limit <n>', 'state changes to show', limitOption, 20)
    .option('--json', 'print JSON')
    .action(async (service: string | undefined, opts: OutputOptions & { check?: boolean; limit: number }) => {
      const query = { service, limit: opts.limit };
      if (opts.check) {
        const check = await adminRequest<CheckView>('/api/v1/admin/health/check', { method: 'POST', query });
        if (opts.json) return printJson(check);
        if (check.results.length === 0) return void process.stdout.write(`${nothingRegistered(service)} — nothing to check\n`);
        printTable(check.results.map((r) => ({ ...r, reachable: r.reachable ? 'yes' : 'NO', latency_ms: r.latency_ms ?? '-' })), ['service_name', 'instance_id', 'reachable', 'latency_ms', 'status']);
        return;
      }
      const view = await adminRequest<HealthView>('/api/v1/admin/health/instances', { query });
      if (opts.json) return printJson(view);
      const rows = view.services.flatMap((s) => s.instances.map((i) => ({ service: s.service_name, instance_id: i.instance_id, status: i.status, reason: i.status_reason, since: i.updated_at })));
      if (rows.length === 0) process.stdout.write(`${nothingRegistered(service)}\n`);
      else printTable(rows, ['service', 'instance_id', 'status', 'reason', 'since']);
      if (view.history.length > 0) {
        process.stdout.write('\nrecent state changes:\n');
        printTable(view.history.map((h) => ({ ...h, from: h.from ?? '(new)' })), ['at', 'service_name', 'instance_id', 'from', 'to', 'reason']);
      }
    });
}
