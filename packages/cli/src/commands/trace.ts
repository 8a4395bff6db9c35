/**
 * `aegis trace [trace_id]` — how the router routed a recent call (RT-8): the instances it
 * considered, the one it chose, and every attempt with its outcome and duration, for every hop of
 * the trace whichever router replica routed it (the admin API asks them all). Without a trace id:
 * the most recent calls of the replica the admin URL points at.
 */
import type { Command } from 'commander';
import { adminRequest } from '../admin-client.js';
import { limitOption } from '../option-parsers.js';
import { printJson, printTable } from '../output.js';

interface Attempt {
  attempt: number;
  instance_id: string;
  outcome: string;
  error_type?: string;
  duration_ms: number;
  timeout_ms: number;
}
interface Route {
  trace_id: string;
  service_name: string;
  method: string;
  received_at: string;
  strategy: string;
  hops: number;
  path: string[];
  instances_considered: string[];
  attempts: Attempt[];
  outcome: string;
  instance_id: string | null;
  error_code: string | null;
  duration_ms: number;
  /** The router replica that routed this call. */
  router_id: string;
}
interface GatheredTrace {
  trace_id: string;
  routes: Route[];
  routers: string[];
  truncated: boolean;
  gather_error: string | null;
}

export function register(program: Command): void {
  program
    .command('trace [trace_id]')
    .description('show the routing decisions of a recent call (or list recent calls)')
    .option('--limit <n>', 'recent calls to list when no trace id is given', limitOption, 20)
    .option('--json', 'print JSON')
    .action(async (traceId: string | undefined, opts: { limit: number; json?: boolean }) => {
      if (traceId === undefined) {
        const { routes } = await adminRequest<{ routes: Route[] }>('/api/v1/admin/traces', { query: { limit: opts.limit } });
        if (opts.json) return printJson({ routes });
        printTable(
          routes.map((r) => ({ trace_id: r.trace_id, at: r.received_at, call: `${r.service_name}.${r.method}`, outcome: r.error_code ?? r.outcome, instance: r.instance_id, attempts: r.attempts.length, ms: r.duration_ms, router: r.router_id })),
          ['trace_id', 'at', 'call', 'outcome', 'instance', 'attempts', 'ms', 'router'],
        );
        return;
      }
      const trace = await adminRequest<GatheredTrace>(`/api/v1/admin/traces/${encodeURIComponent(traceId)}`);
      if (opts.json) return printJson(trace);
      for (const r of trace.routes) printRoute(r);
      // On stderr, so the routes above stay the whole of stdout.
      const note = (line: string) => process.stderr.write(`${line}\n`);
      note(`searched ${trace.routers.length} router replica(s): ${trace.routers.join(', ')}`);
      if (trace.truncated) note('a replica held more routes of this trace than it sends (100): only its newest are shown');
      if (trace.gather_error !== null) note(`warning: ${trace.gather_error}; the routes shown are this replica's only`);
    });
}

function printRoute(r: Route): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`${r.service_name}.${r.method}  trace ${r.trace_id}  at ${r.received_at}`);
  out(`  outcome     ${r.outcome}${r.error_code ? ` (${r.error_code})` : ''} in ${r.duration_ms} ms${r.instance_id ? ` by ${r.instance_id}` : ''}`);
  out(`  router      ${r.router_id}`);
  out(`  strategy    ${r.strategy}; hops before this one: ${r.hops}${r.path.length > 0 ? ` via ${r.path.join(' → ')}` : ''}`);
  out(`  considered  ${r.instances_considered.length === 0 ? '(none healthy)' : r.instances_considered.join(', ')}`);
  if (r.attempts.length === 0) out('  attempts    none (refused before routing)');
  for (const a of r.attempts) {
    out(`  attempt ${a.attempt}   ${a.instance_id}: ${a.outcome}${a.error_type ? ` ${a.error_type}` : ''} after ${a.duration_ms} ms (limit ${a.timeout_ms} ms)`);
  }
}
