import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@aegis-ipc/sdk';
import { connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
afterAll(() => harness.cleanup());

describe('registry persistence (REG-2, REG-8)', () => {
  it('a restarted router shows the same services, and live instances stay ONLINE', async () => {
    const nc = await connectTestNats();
    const client = await connect({ nc });
    const service = uniqueName('svc');
    const first = await harness.start();
    const instances = await Promise.all([1, 2, 3].map((n) => client.register(service, `${service}-${n}`, { n })));
    await first.close();

    const second = await harness.start();
    expect(second.registry.service(service)?.counts).toMatchObject({ total: 3, ONLINE: 3 });
    expect(second.registry.get(`${service}-2`)?.record.metadata).toMatchObject({ n: 2 });
    // Past the heartbeat timeout the instances are still ONLINE: the new replica saw their heartbeats.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(second.registry.service(service)?.counts.ONLINE).toBe(3);
    await Promise.all(instances.map((i) => i.close()));
    await second.close();
    await client.close();
    await nc.close();
  });

  it('two replicas running at once agree on every change, whichever one handled it', async () => {
    const nc = await connectTestNats();
    const client = await connect({ nc });
    const service = uniqueName('svc');
    const a = await harness.start();
    const b = await harness.start();
    const instances = await Promise.all(Array.from({ length: 20 }, (_, n) => client.register(service, `${service}-${n}`)));
    await waitFor(() => a.registry.service(service)?.counts.ONLINE === 20 && b.registry.service(service)?.counts.ONLINE === 20, { what: 'both replicas see 20' });
    await Promise.all(instances.slice(0, 5).map((i) => i.close()));
    await waitFor(() => a.registry.service(service)?.counts.OFFLINE === 5 && b.registry.service(service)?.counts.OFFLINE === 5, { what: 'both replicas see 5 OFFLINE' });
    expect(a.registry.service(service)).toEqual(b.registry.service(service));
    await Promise.all(instances.slice(5).map((i) => i.close()));
    await a.close();
    await b.close();
    await client.close();
    await nc.close();
  });
});
