/**
 * `@aegis-ipc/cli` — the `aegis` command. Its entry is `src/main.ts`; this module exports the
 * output helpers for commands and tests.
 */
export { printTable, printJson, printError, type OutputOptions } from './output.js';
