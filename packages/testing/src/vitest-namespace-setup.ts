/**
 * Vitest setup for integration tests: gives each test file (vitest runs each in its own process)
 * a namespace of its own, so routers started by parallel files never answer each other's
 * queue-group requests. Imports nothing, so it runs before the protocol reads AEGIS_NAMESPACE.
 * Child processes spawned by a test inherit it.
 */
process.env.AEGIS_NAMESPACE = `t${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
