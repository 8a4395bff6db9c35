/**
 * `@aegis-ipc/sdk` — what a service or caller imports: connect, register, serve, call.
 *
 * @example
 * import { connect } from '@aegis-ipc/sdk';
 * const client = await connect();
 * const instance = await client.register('billing', 'billing-1', { zone: 'eu-1' });
 * // … heartbeats run in the background …
 * await client.close(); // unregisters (OFFLINE) and drains the connection
 */
export { connect, AegisClient, type RegisterOptions } from './client/aegis-client.js';
export { resolveClientOptions, DEFAULT_REQUEST_TIMEOUT_MS, type ClientOptions, type ResolvedClientOptions } from './client/client-options.js';
export { ServiceInstance } from './instance/service-instance.js';
export { withRetry, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry/retry-policy.js';
export { requestReply, assertFitsPayload } from './transport/request-reply.js';
export { fromNatsError } from './transport/nats-error.js';
export { AegisError, isAegisError, type ErrorCode } from '@aegis-ipc/protocol';
