import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Router } from '@aegis-ipc/router';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, uniqueName } from '@aegis-ipc/testing';
import { runAegis, type AegisRun } from './run-aegis.js';

const bucket = uniqueName('reg');
const service = uniqueName('svc');
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  router = await Router.start({ natsUrl: TEST_NATS_URL, embeddedNats: 'never', registryBucket: bucket, httpPort: 0, logger: pino({ level: 'silent' }) });
  client = await connect({ servers: TEST_NATS_URL });
  await client.register(service, `${service}-a`, { zone: 'eu' });
});
afterAll(async () => {
  await client.close();
  await router.close();
  const nc = await connectTestNats();
  await deleteBuckets(nc, [bucket]);
  await nc.close();
});

function aegis(...args: string[]): Promise<AegisRun> {
  return runAegis(args, { ...process.env, AEGIS_ADMIN_URL: router.url });
}

describe('aegis services', () => {
  it('prints a readable table', async () => {
    const { code, stdout } = await aegis('services');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SERVICE\s+ONLINE\s+UNHEALTHY\s+OFFLINE\s+INSTANCES/m);
    expect(stdout).toMatch(new RegExp(`^${service}\\s+1\\s+0\\s+0\\s+${service}-a`, 'm'));
  });

  it('prints JSON with --json', async () => {
    const { stdout } = await aegis('services', service, '--json');
    expect(JSON.parse(stdout)).toMatchObject({ service_name: service, counts: { ONLINE: 1 }, instances: [{ instance_id: `${service}-a`, metadata: { zone: 'eu' } }] });
  });

  it('exits 1 with one line naming the error code for an unknown service', async () => {
    const { code, stderr } = await aegis('services', 'nobody');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('aegis: SERVICE_NOT_FOUND: service "nobody" is not registered');
  });

  it('shows health with recent state changes', async () => {
    const { code, stdout } = await aegis('health', service);
    expect(code).toBe(0);
    expect(stdout).toContain(`${service}-a`);
    expect(stdout).toMatch(/recent state changes/);
  });

  it('names the service when it has no instances, rather than claiming nothing is registered', async () => {
    const shown = await aegis('health', 'nobody');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe('no instances of service "nobody" registered\n');
    const checked = await aegis('health', 'nobody', '--check');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe('no instances of service "nobody" registered — nothing to check\n');
  });
});
