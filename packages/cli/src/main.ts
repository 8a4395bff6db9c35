/**
 * `aegis` — the AegisIPC command line: runs the router and relay, and inspects a running system.
 * Human-readable output by default, `--json` for scripts.
 */

// `aegis … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const json = process.argv.includes('--json');
let runCli: ((argv: readonly string[]) => Promise<void>) | undefined;
try {
  // Loaded dynamically: @aegis-ipc/protocol validates AEGIS_NAMESPACE as it loads, and a bad
  // value must end as one typed line like every other error, not as an uncaught stack trace.
  ({ runCli } = await import('./cli.js'));
} catch (err) {
  printLoadError(err);
}
await runCli?.(process.argv);

/**
 * Prints an error thrown while loading the commands. It cannot use the output helpers — they
 * load the very module that failed — so it reads the AegisError fields (or the message) directly.
 */
function printLoadError(err: unknown): void {
  const e = err as { code?: unknown; message?: unknown; toWire?: () => unknown };
  const code = typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'INTERNAL';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (json) {
    const wire = typeof e.toWire === 'function' ? e.toWire() : { code, message, status: 500, retryable: false };
    process.stderr.write(`${JSON.stringify({ error: wire })}\n`);
  } else {
    process.stderr.write(`aegis: ${code}: ${message}\n`);
  }
  process.exitCode = 1;
}
