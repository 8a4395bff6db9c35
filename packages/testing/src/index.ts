/**
 * `@aegis-ipc/testing` — helpers for tests against the real NATS, PostgreSQL and Redis on this
 * machine: unique names, fresh databases, stream/bucket/key cleanup, child processes for chaos.
 *
 * @example
 * const db = await createTestDatabase(); … await db.drop();
 */
export { uniqueName } from './unique-name.js';
export { waitFor } from './wait-for.js';
export { TEST_NATS_URL, TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';
export { connectTestNats, deleteStreams, deleteBuckets } from './nats.js';
export { createTestDatabase, type TestDatabase } from './postgres.js';
export { connectTestRedis, deleteKeysWithPrefix, type TestRedis } from './redis.js';
export { spawnTs, type SpawnedProcess } from './child-process.js';
export { errorCodeOf } from './error-code-of.js';
export { captureLogs, type LogCapture, type LogRecord } from './log-capture.js';
