import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@aegis-ipc/sdk';
import { connectTestNats, deleteStreams, uniqueName, waitFor } from '@aegis-ipc/testing';

const stream = uniqueName('evt');
afterAll(async () => {
  const nc = await connectTestNats();
  await deleteStreams(nc, [stream, `${stream}_DLQ`]);
  await nc.close();
});

describe('client.publish / client.subscribe', () => {
  it('delivers QoS 1 events through the client on its shared connection, and close() drains them', async () => {
    const client = await connect({ events: { stream, subjectPrefix: `${uniqueName('p')}.evt` } });
    const seen: unknown[] = [];
    await client.subscribe('orders.created', async (event) => {
      seen.push(event.payload);
    }, { qos: 1, group: 'shipping' });
    for (let i = 0; i < 5; i++) await client.publish('orders.created', { n: i }, { qos: 1 });
    await waitFor(() => seen.length === 5, { what: '5 events' });
    expect(seen).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    await client.close();
    expect(client.nc.isClosed()).toBe(true);
  });
});
