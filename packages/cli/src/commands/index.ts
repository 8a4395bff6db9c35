/**
 * The list of CLI commands. Each command lives in its own file (STYLE: one concept per file) and
 * exports a `register(program)` function; adding a command is one file plus one line here.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [];
