/**
 * An AegisIPC router as its own process for the benchmark, so the routed path has the same
 * process layout as the raw 2-hop baseline (caller | forwarder | responder).
 *
 *   AEGIS_REGISTRY_BUCKET=bench_x NATS_URL=… node --conditions=source --import tsx router-process.ts
 *
 * Every other router setting comes from the environment (defaults otherwise); no admin HTTP
 * server (not on the measured path). Prints `READY` once started; SIGTERM/SIGINT close it.
 */
import { Router } from '@aegis-ipc/router';

const router = await Router.start({ embeddedNats: 'never', http: false });
const stop = () => void router.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdout.write('READY\n');
