/**
 * Parsers for numeric command-line flags (commander `argParser`s). A mistyped number is a typed
 * `VALIDATION_FAILED` naming the flag, printed as one line like every other CLI error — never
 * silently replaced by the default (`--limit abc` listing 100 rows) nor passed on as NaN for a
 * library to reject with an unrelated message.
 */
import { AegisError } from '@aegis-ipc/protocol';

/**
 * A commander parser accepting a whole number in `min…max`.
 * @throws AegisError `VALIDATION_FAILED` naming `flag`
 */
export function intOption(flag: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new AegisError('VALIDATION_FAILED', `${flag} must be a whole number in ${min}…${max}, got ${JSON.stringify(raw)}`, {
        details: { fields: [{ path: `/${flag.replace(/^-+/, '')}`, message: `integer in ${min}…${max}` }] },
      });
    }
    return value;
  };
}

/** `--limit <n>` of the listing commands: 1…10000 (some admin API lists accept fewer and say so). */
export const limitOption = intOption('--limit', 1, 10_000);

/** `--port <port>`: 0 (any free port) … 65535. */
export const portOption = intOption('--port', 0, 65_535);
