/**
 * The list of CLI commands. Each command lives in its own file (STYLE: one concept per file) and
 * exports a `register(program)` function; adding a command is one import plus one entry here.
 */
import type { Command } from 'commander';
import { register as router } from './router.js';
import { register as services } from './services.js';
import { register as health } from './health.js';
import { register as demo } from './demo.js';
import { register as config } from './config.js';
import { register as events } from './events.js';
import { register as relay } from './relay.js';
import { register as outbox } from './outbox.js';
import { register as messages } from './messages.js';
import { register as call } from './call.js';
import { register as trace } from './trace.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  router,
  services,
  health,
  demo,
  config,
  events,
  relay,
  outbox,
  messages,
  call,
  trace,
];
