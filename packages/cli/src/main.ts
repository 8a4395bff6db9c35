/**
 * `aegis` — the AegisIPC command line: runs the router and relay, and inspects a running system.
 * Human-readable output by default, `--json` for scripts.
 */
import { Command } from 'commander';
import { COMMANDS } from './commands/index.js';
import { printError } from './output.js';

// `aegis … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('aegis')
  .description('AegisIPC: reliable service-to-service communication on NATS')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  printError(err, process.argv.includes('--json'));
}
