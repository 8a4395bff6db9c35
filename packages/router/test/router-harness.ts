/**
 * Starts a router on the real NATS with its own KV bucket and a free HTTP port, silenced logs,
 * and cleans up the bucket afterwards. Shared by the router's integration tests.
 */
import { pino } from 'pino';
import type { NatsConnection } from '@nats-io/nats-core';
import { Router, type RouterStartOptions } from '@aegis-ipc/router';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, uniqueName } from '@aegis-ipc/testing';

export interface RouterHarness {
  readonly bucket: string;
  start(options?: RouterStartOptions): Promise<Router>;
  /** A NATS connection and an SDK client on it, closed by `cleanup()`. */
  connect(): Promise<{ nc: NatsConnection; client: AegisClient }>;
  /** Closes clients, routers and the KV bucket. */
  cleanup(): Promise<void>;
}

export function routerHarness(defaults: RouterStartOptions = {}): RouterHarness {
  const bucket = uniqueName('reg');
  const routers: Router[] = [];
  const clients: Array<{ nc: NatsConnection; client: AegisClient }> = [];
  return {
    bucket,
    async start(options = {}) {
      const router = await Router.start({
        natsUrl: TEST_NATS_URL,
        embeddedNats: 'never',
        registryBucket: bucket,
        httpPort: 0,
        logger: pino({ level: process.env.AEGIS_TEST_LOG_LEVEL ?? 'silent' }),
        ...defaults,
        ...options,
      });
      routers.push(router);
      return router;
    },
    async connect() {
      const nc = await connectTestNats();
      const pair = { nc, client: await connect({ nc }) };
      clients.push(pair);
      return pair;
    },
    async cleanup() {
      for (const { nc, client } of clients) {
        await client.close();
        await nc.close();
      }
      await Promise.all(routers.map((r) => r.close()));
      const nc = await connectTestNats();
      await deleteBuckets(nc, [bucket]);
      await nc.close();
    },
  };
}
