/**
 * Refuses to run the demo next to another router of the same namespace. Router replicas share
 * routed calls through a queue group, so a router started elsewhere (`npm start`, a colleague's
 * session) would receive part of the demo's calls, know none of its instances, and answer them
 * with ROUTE_NO_INSTANCE — a demo of failover that fails for an unrelated reason.
 */
import { AegisError, NAMESPACE } from '@aegis-ipc/protocol';
import { connect } from '@aegis-ipc/sdk';

const PROBE_TIMEOUT_MS = 1_000;

/**
 * @throws AegisError `CONFIG_INVALID` when a router already answers on this namespace.
 */
export async function assertNoOtherRouter(natsUrl: string): Promise<void> {
  let client;
  try {
    client = await connect({ servers: natsUrl, name: 'aegis-demo-probe' });
  } catch {
    return; // No NATS yet: the demo's router will start one, so no other router can be there.
  }
  try {
    await client.call('aegis-demo-probe', 'probe', {}, { timeoutMs: PROBE_TIMEOUT_MS });
  } catch (err) {
    // Only a router answers ROUTE_NO_INSTANCE; no responders or a timeout mean nobody routes here.
    if (err instanceof AegisError && err.code === 'ROUTE_NO_INSTANCE') {
      throw new AegisError(
        'CONFIG_INVALID',
        `another AegisIPC router serves namespace "${NAMESPACE}" on ${natsUrl}; stop it or run the demo apart: AEGIS_NAMESPACE=demo aegis demo`,
      );
    }
  } finally {
    await client.close();
  }
}
