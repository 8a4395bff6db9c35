/** `aegis services [name]` — registered services and instances, as a table or `--json`. */
import type { Command } from 'commander';
import { adminRequest } from '../admin-client.js';
import { printJson, printTable, type OutputOptions } from '../output.js';

interface Instance {
  service_name: string;
  instance_id: string;
  status: string;
  registered_at: string;
  updated_at: string;
  last_heartbeat_at?: string;
  metadata: Record<string, unknown>;
}
interface Service {
  service_name: string;
  instances: Instance[];
  counts: { ONLINE: number; OFFLINE: number; UNHEALTHY: number; total: number };
}

export function register(program: Command): void {
  program
    .command('services [name]')
    .description('list registered services and their instances (from the admin API)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: OutputOptions) => {
      if (name !== undefined) {
        const service = await adminRequest<Service>(`/api/v1/admin/services/${encodeURIComponent(name)}`);
        if (opts.json) return printJson(service);
        printTable(service.instances.map(instanceRow), ['instance_id', 'status', 'registered_at', 'last_heartbeat', 'metadata']);
        return;
      }
      const all = await adminRequest<{ services: Service[]; total_services: number; total_instances: number }>('/api/v1/admin/services');
      if (opts.json) return printJson(all);
      if (all.services.length === 0) {
        process.stdout.write('no services registered\n');
        return;
      }
      printTable(
        all.services.map((s) => ({ service: s.service_name, online: s.counts.ONLINE, unhealthy: s.counts.UNHEALTHY, offline: s.counts.OFFLINE, instances: s.instances.map((i) => i.instance_id).join(', ') })),
        ['service', 'online', 'unhealthy', 'offline', 'instances'],
      );
      process.stdout.write(`${all.total_services} service(s), ${all.total_instances} instance(s)\n`);
    });
}

function instanceRow(i: Instance): Record<string, unknown> {
  return { instance_id: i.instance_id, status: i.status, registered_at: i.registered_at, last_heartbeat: i.last_heartbeat_at, metadata: i.metadata };
}
