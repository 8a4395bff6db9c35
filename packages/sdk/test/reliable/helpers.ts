/**
 * Shared set-up of the exactly-once tests: a router (registration), clients, and cleanup of every
 * stream and bucket the namespace of this test file created.
 */
import { pino } from 'pino';
import { Router } from '@aegis-ipc/router';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, deleteStreams, uniqueName } from '@aegis-ipc/testing';
import type { AegisClient} from '@aegis-ipc/sdk';
import { MESSAGE_STATUS_BUCKET, RELIABLE_DLQ_STREAM, RELIABLE_STREAM, connect } from '@aegis-ipc/sdk';

export const silent = pino({ level: process.env.AEGIS_TEST_LOG_LEVEL ?? 'silent' });

export interface System {
  readonly registryBucket: string;
  readonly dedupeBucket: string;
  router: Router;
  client(): Promise<AegisClient>;
  restartRouter(): Promise<Router>;
  cleanup(): Promise<void>;
}

export async function startSystem(): Promise<System> {
  const registryBucket = uniqueName('reg');
  const dedupeBucket = uniqueName('dedupe');
  const clients: AegisClient[] = [];
  const startRouter = () => Router.start({ natsUrl: TEST_NATS_URL, embeddedNats: 'never', registryBucket, http: false, logger: silent });
  const system: System = {
    registryBucket,
    dedupeBucket,
    router: await startRouter(),
    async client() {
      const c = await connect({ servers: TEST_NATS_URL, logger: silent });
      clients.push(c);
      return c;
    },
    async restartRouter() {
      await system.router.close();
      system.router = await startRouter();
      return system.router;
    },
    async cleanup() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await system.router.close();
      const nc = await connectTestNats();
      await deleteStreams(nc, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
      await deleteBuckets(nc, [registryBucket, dedupeBucket, MESSAGE_STATUS_BUCKET]);
      await nc.close();
    },
  };
  return system;
}
