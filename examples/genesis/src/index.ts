/**
 * `@aegis-ipc/example-genesis` — the reference command API of SPEC OB-1 on the transactional
 * outbox. Run it with `npm run genesis` → `src/main.ts` (see docs/outbox.md).
 *
 * @example
 * const app = buildGenesisApp({ db, writer, hub, verify: createJwtVerifier({ secret, issuer, audience }) });
 * await app.listen({ port: 8000 });
 */
export { buildGenesisApp, type GenesisAppDeps } from './genesis-app.js';
export { createJwtVerifier, type JwtAuthOptions, type Principal } from './jwt-auth.js';
export { GENESIS_COMMANDS, AGGREGATE_TYPE, STAGES, commandFor } from './genesis-commands.js';
export { ProgressHub } from './progress-hub.js';
export { startConceptWorker } from './concept-worker.js';
export { toHttpError } from './http-errors.js';
export { GENESIS_SETTINGS } from './settings.js';
