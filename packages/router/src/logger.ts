/** The router's structured JSON logger (pino), one per router so tests can silence it. */
import { pino, type Logger } from 'pino';

export function createRouterLogger(level: string, name = 'aegis-router'): Logger {
  return pino({ name, level, base: { component: 'router' }, timestamp: pino.stdTimeFunctions.isoTime });
}
