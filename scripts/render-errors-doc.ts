import { ERROR_CODES } from '@aegis-ipc/protocol';

/** Renders the error-code reference as Markdown. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${e.summary} |`,
  );
  return `# Error codes

Generated from \`packages/protocol/src/errors/error-codes.ts\` by \`npm run docs:errors\`; a unit
test fails when this file and the registry disagree. Codes are stable: never renamed, never reused.

Every error is an \`AegisError\` with \`code\`, \`message\`, \`status\` (HTTP-like), \`retryable\` and typed
\`details\`. On the wire (NATS replies) an error reply is the MessagePack map
\`{ "error": { "code", "message", "status", "retryable", "details" } }\`; the SDK rebuilds it into an
\`AegisError\` of the same code. The admin API answers with the inner object as JSON —
\`{ "code", "message", "status", "retryable", "details" }\`, not wrapped in \`error\` — with
\`status\` as the HTTP status. (The genesis example's command API answers in the shape SPEC OB-1
asks for, \`{ "error_code", "message", … }\`.)

| code | status | retryable | meaning |
|---|---|---|---|
${rows.join('\n')}

\`retryable\` says whether the same request may succeed if sent again, not whether a handler ran:
\`client.call(…, { retry })\` decides by the latter ([ADR 0032](adr/0032-caller-retry.md)). It
always retries the router's own \`ROUTE_NO_INSTANCE\` and \`ROUTE_CIRCUIT_OPEN\` and a
\`CONNECTION_FAILED\` with no router listening; \`TIMEOUT\`, \`ROUTE_INSTANCE_TIMEOUT\` and
\`ROUTE_ALL_FAILED\` only with \`idempotent: true\`; nothing else. The error it finally throws
carries \`callAttempts\` (a property, not a detail).
`;
}
