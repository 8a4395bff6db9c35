/**
 * The `aegis` program: every command registered on one commander instance, run over `argv`.
 * Loaded by `main.ts` only after the process is known to start cleanly (see there).
 */
import { Command } from 'commander';
import { COMMANDS } from './commands/index.js';
import { printError } from './output.js';

/** Parses `argv` and runs the command; any failure is printed as one line (or JSON) with exit code 1. */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = new Command('aegis')
    .description('AegisIPC: reliable service-to-service communication on NATS')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });

  for (const register of COMMANDS) register(program);

  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    printError(err, argv.includes('--json'));
  }
}
