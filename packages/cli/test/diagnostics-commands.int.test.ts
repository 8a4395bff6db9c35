/**
 * The routing diagnostics of the CLI (SPEC RT-8), run as a user runs them — the `aegis` binary as a
 * child process against a real router and a real instance: `aegis call`, then `aegis trace` of
 * that call, and `aegis health --check`, each in human form and with `--json`, plus the typed
 * errors a mistyped command gets. Each command is a new Node process loading the TypeScript
 * sources, a second or more each, so the cases share processes where they can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Router } from '@aegis-ipc/router';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, uniqueName, waitFor } from '@aegis-ipc/testing';
import { runAegis, type AegisRun } from './run-aegis.js';

const bucket = uniqueName('reg');
const service = uniqueName('svc');
const instanceId = `${service}-a`;
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  router = await Router.start({ natsUrl: TEST_NATS_URL, embeddedNats: 'never', registryBucket: bucket, httpPort: 0, logger: pino({ level: 'silent' }) });
  client = await connect({ servers: TEST_NATS_URL });
  const instance = await client.register(service, instanceId);
  instance.handle('echo', async (params) => params);
  instance.handle('fail', async () => {
    throw new Error('refused on purpose');
  });
  await waitFor(async () => (await client.call(service, 'echo', {}), true), { timeoutMs: 10_000, what: 'the instance to be routable' });
});
afterAll(async () => {
  await client.close();
  await router.close();
  const nc = await connectTestNats();
  await deleteBuckets(nc, [bucket]);
  await nc.close();
});

function aegis(...args: string[]): Promise<AegisRun> {
  return runAegis(args, { ...process.env, AEGIS_ADMIN_URL: router.url, NATS_URL: TEST_NATS_URL });
}

describe('aegis call', () => {
  it('prints the result, and the trace id on stderr as the handle for aegis trace', async () => {
    const traceId = uniqueName('trace').replaceAll('.', '_');
    const { code, stdout, stderr } = await aegis('call', service, 'echo', '--params', '{"order":"o-1","n":2}', '--trace', traceId);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ order: 'o-1', n: 2 });
    expect(stderr).toMatch(new RegExp(`^trace ${traceId} · [0-9.]+ ms\\n$`));
  });

  it('prints { trace_id, duration_ms, result } with --json', async () => {
    const { code, stdout } = await aegis('call', service, 'echo', '--params', '{"x":[1,2]}', '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { trace_id: string; duration_ms: number; result: unknown };
    expect(out.result).toEqual({ x: [1, 2] });
    expect(out.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(out.duration_ms).toBeGreaterThan(0);
  });

  it('exits 1 with the error code for a handler error, an unknown service and bad params', async () => {
    const failed = await aegis('call', service, 'fail');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/aegis: APPLICATION_ERROR: .*refused on purpose/);
    expect(failed.stderr).toMatch(/^trace [0-9a-f]{32}$/m);

    const unknown = await aegis('call', uniqueName('nobody'), 'echo', '--json');
    expect(unknown.code).toBe(1);
    expect((JSON.parse(unknown.stderr.trim().split('\n').at(-1) ?? '') as { error: { code: string } }).error.code).toBe('ROUTE_NO_INSTANCE');

    for (const params of ['{"a":', '[1,2]']) {
      const bad = await aegis('call', service, 'echo', '--params', params);
      expect(bad.code, params).toBe(1);
      expect(bad.stderr, params).toMatch(/^aegis: VALIDATION_FAILED: --params /);
    }
    const badName = await aegis('call', 'no spaces allowed', 'echo');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/aegis: INVALID_NAME: /);
  });

  it('retries with --retry while no handler ran, says how many attempts it made, and refuses a bad count', async () => {
    const retried = await aegis('call', uniqueName('nobody'), 'echo', '--retry', '2', '--timeout', '3000');
    expect(retried.code).toBe(1);
    expect(retried.stderr).toMatch(/aegis: ROUTE_NO_INSTANCE: /);
    expect(retried.stderr).toMatch(/^trace [0-9a-f]{32} · 3 attempts$/m);

    const answered = await aegis('call', service, 'echo', '--params', '{"r":1}', '--retry', '2', '--idempotent');
    expect(answered.code, answered.stderr).toBe(0);
    expect(JSON.parse(answered.stdout)).toEqual({ r: 1 });

    for (const args of [['--retry=-1'], ['--retry', 'two'], ['--idempotent']]) {
      const bad = await aegis('call', service, 'echo', ...args);
      expect(bad.code, args.join(' ')).toBe(1);
      expect(bad.stderr, args.join(' ')).toMatch(/^aegis: VALIDATION_FAILED: --(retry|idempotent) /);
    }
  });
});

describe('aegis trace', () => {
  it('shows how the router routed a call: instances considered, the one chosen, each attempt', async () => {
    const traceId = uniqueName('trace').replaceAll('.', '_');
    const called = await aegis('call', service, 'echo', '--trace', traceId);
    expect(called.code, called.stderr).toBe(0);

    const human = await aegis('trace', traceId);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`${service}.echo  trace ${traceId}`);
    expect(human.stdout).toMatch(new RegExp(`outcome +success in [0-9.]+ ms by ${instanceId}`));
    expect(human.stdout).toMatch(new RegExp(`considered +${instanceId}`));
    expect(human.stdout).toMatch(new RegExp(`attempt 1 +${instanceId}: answered after [0-9.]+ ms \\(limit [0-9]+ ms\\)`));
    // Which replica routed it (the lookup asks every replica; this test runs one).
    expect(human.stdout).toMatch(new RegExp(`\\n  router +${router.id}\\n`));
    expect(human.stderr).toBe(`searched 1 router replica(s): ${router.id}\n`);

    const json = await aegis('trace', traceId, '--json');
    expect(json.code, json.stderr).toBe(0);
    const trace = JSON.parse(json.stdout) as { trace_id: string; routers: string[]; gather_error: string | null; routes: Array<{ instance_id: string; router_id: string; instances_considered: string[]; attempts: Array<{ instance_id: string; outcome: string }> }> };
    expect(trace.trace_id).toBe(traceId);
    expect(trace.routes, json.stdout).toHaveLength(1);
    expect(trace.routes[0]?.instance_id).toBe(instanceId);
    expect(trace.routes[0]?.router_id).toBe(router.id);
    expect(trace.routers).toEqual([router.id]);
    expect(trace.gather_error).toBeNull();
    expect(trace.routes[0]?.instances_considered).toEqual([instanceId]);
    expect(trace.routes[0]?.attempts.map((a) => [a.instance_id, a.outcome]), json.stdout).toEqual([[instanceId, 'answered']]);
  });

  it('lists recent calls without a trace id', async () => {
    const { code, stdout } = await aegis('trace', '--limit', '5', '--json');
    expect(code).toBe(0);
    const { routes } = JSON.parse(stdout) as { routes: Array<{ service_name: string; received_at: string; router_id: string }> };
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.length).toBeLessThanOrEqual(5);
    expect(routes.some((r) => r.service_name === service)).toBe(true);
    expect(routes.every((r) => r.router_id === router.id)).toBe(true);
    const times = routes.map((r) => Date.parse(r.received_at));
    expect(times).toEqual([...times].sort((a, b) => b - a)); // newest first
  });

  it('exits 1 with NOT_FOUND for a trace id the router has not seen', async () => {
    const { code, stderr } = await aegis('trace', uniqueName('never').replaceAll('.', '_'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^aegis: NOT_FOUND: no recent routed call with trace id /);
  });
});

describe('aegis health --check', () => {
  it('pings the instances now and reports who answered', async () => {
    const human = await aegis('health', service, '--check');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${instanceId} +yes +[0-9.]+ +ONLINE`));

    const json = await aegis('health', service, '--check', '--json');
    const { results } = JSON.parse(json.stdout) as { results: Array<{ instance_id: string; reachable: boolean; latency_ms: number | null; status: string }> };
    expect(results).toEqual([expect.objectContaining({ instance_id: instanceId, reachable: true, status: 'ONLINE' })]);
    expect(results[0]?.latency_ms).toBeGreaterThanOrEqual(0);
  });
});
