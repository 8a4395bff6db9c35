/** Settings of the genesis example (SPEC OBS-5), declared once. */
import { setting } from '@aegis-ipc/protocol';

export const GENESIS_SETTINGS = {
  host: setting.string('GENESIS_HOST', '127.0.0.1', 'Address the genesis command API listens on.'),
  port: setting.int('GENESIS_PORT', 8000, 'Port of the genesis command API.', { max: 65_535 }),
  jwtSecret: setting.optionalString('JWT_SECRET', 'HMAC secret for JWT Bearer tokens (HS256/384/512). Unset: a random one, and a dev token is printed at start.', {
    secret: true,
  }),
  jwtIssuer: setting.string('JWT_ISSUER', 'aegis-genesis', 'Required `iss` claim of JWT Bearer tokens.'),
  jwtAudience: setting.string('JWT_AUDIENCE', 'genesis-api', 'Required `aud` claim of JWT Bearer tokens.'),
  jwtAlgorithms: setting.string('JWT_ALGORITHMS', 'HS256', 'Comma-separated allow-list of JWS algorithms (never `none`).'),
  embeddedRelay: setting.bool('GENESIS_EMBEDDED_RELAY', true, 'Run the outbox relay inside the API process (required with embedded PGlite).'),
} as const;
