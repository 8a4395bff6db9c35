/**
 * A pino child logger made on first use: `log()` returns it. Reliable calls and deliveries log
 * on their hot path only at debug/info level, so with those off a call builds no child (pino
 * serialises the bindings when it makes one).
 */
import type { Logger } from 'pino';

export function lazyChild(logger: Logger, bindings: Record<string, string>): () => Logger {
  let child: Logger | undefined;
  return () => (child ??= logger.child(bindings));
}
