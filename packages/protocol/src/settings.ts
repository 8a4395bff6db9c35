/**
 * Declarative settings (SPEC OBS-5): each component declares its environment variables once —
 * name, default, parser, doc — and resolves them in one place. The same declarations generate
 * the configuration reference, so documentation cannot drift from code.
 *
 * Pure: the environment is passed in, so this module does no I/O.
 */
import { AegisError } from './errors/aegis-error.js';

/** One setting: the env var that sets it, its default and how to parse it. */
export interface SettingDef<T> {
  readonly env: string;
  readonly default: T;
  readonly doc: string;
  readonly parse: (raw: string) => T;
  /** Shown as `***` by `aegis config`. */
  readonly secret?: boolean;
}

/** A set of settings keyed by option name. */
export type SettingDefs = Readonly<Record<string, SettingDef<unknown>>>;

/** The resolved, read-only values of a set of settings. */
export type ResolvedSettings<D extends SettingDefs> = { readonly [K in keyof D]: D[K] extends SettingDef<infer T> ? T : never };

function invalid(env: string, raw: string, expected: string): AegisError<'CONFIG_INVALID'> {
  return new AegisError('CONFIG_INVALID', `${env}=${JSON.stringify(raw)} is invalid: expected ${expected}`, {
    details: { env, value: raw, expected },
  });
}

/** The levels `AEGIS_LOG_LEVEL` accepts: pino's. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Builders for the common kinds of setting. */
export const setting = {
  string(env: string, def: string, doc: string, opts: { secret?: boolean } = {}): SettingDef<string> {
    return { env, default: def, doc, parse: (raw) => raw, ...opts };
  },
  optionalString(env: string, doc: string, opts: { secret?: boolean } = {}): SettingDef<string | undefined> {
    return { env, default: undefined, doc, parse: (raw) => (raw === '' ? undefined : raw), ...opts };
  },
  int(env: string, def: number, doc: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): SettingDef<number> {
    return {
      env,
      default: def,
      doc,
      parse(raw) {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < min || n > max) throw invalid(env, raw, `an integer in ${min}…${max}`);
        return n;
      },
    };
  },
  bool(env: string, def: boolean, doc: string): SettingDef<boolean> {
    return {
      env,
      default: def,
      doc,
      parse(raw) {
        if (/^(1|true|yes|on)$/i.test(raw)) return true;
        if (/^(0|false|no|off)$/i.test(raw)) return false;
        throw invalid(env, raw, 'true or false');
      },
    };
  },
  oneOf<const T extends string>(env: string, def: T, values: readonly T[], doc: string): SettingDef<T> {
    return {
      env,
      default: def,
      doc: `${doc} One of: ${values.join(', ')}.`,
      parse(raw) {
        if (!(values as readonly string[]).includes(raw)) throw invalid(env, raw, `one of ${values.join(', ')}`);
        return raw as T;
      },
    };
  },
  /** `AEGIS_LOG_LEVEL`: one variable sets the log level of every AegisIPC process (router, relay, examples). */
  logLevel(def: LogLevel = 'info'): SettingDef<LogLevel> {
    return setting.oneOf('AEGIS_LOG_LEVEL', def, LOG_LEVELS, 'Log level of the JSON logs.');
  },
};

/**
 * Resolves `defs` from `env` (unset or empty → default), then applies explicit `overrides`
 * (options passed in code win over the environment, within the same bounds).
 * @throws AegisError `CONFIG_INVALID` naming the variable (or option) and the expected form.
 */
export function resolveSettings<D extends SettingDefs>(
  defs: D,
  env: Readonly<Record<string, string | undefined>>,
  overrides: Partial<{ [K in keyof D]: ResolvedSettings<D>[K] }> = {},
): ResolvedSettings<D> {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(defs)) {
    const raw = env[def.env];
    out[key] = raw === undefined || raw === '' ? def.default : def.parse(raw);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const def = defs[key];
    if (def !== undefined) checkOverride(key, def, value);
    out[key] = value;
  }
  return Object.freeze(out) as ResolvedSettings<D>;
}

/**
 * An option passed in code meets the same bounds as its variable: `{ httpPort: NaN }` or
 * `{ heartbeatIntervalMs: 0 }` is CONFIG_INVALID here, not a failure deep in a library with an
 * unrelated message. Scalars are checked by the variable's own parser on their text form and
 * kept as given; structured values (`fallbacks`) are the caller's typed objects.
 */
function checkOverride(key: string, def: SettingDef<unknown>, value: unknown): void {
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') return;
  try {
    def.parse(String(value));
  } catch (err) {
    const expected = err instanceof AegisError ? (err.details as { expected?: unknown } | undefined)?.expected : undefined;
    throw new AegisError('CONFIG_INVALID', `option ${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)} is invalid${typeof expected === 'string' ? `: expected ${expected}` : ''} (as ${def.env})`, {
      details: { option: key, env: def.env, value: String(value), ...(typeof expected === 'string' && { expected }) },
      cause: err,
    });
  }
}

/** Rows for the configuration reference: one per setting. */
export function describeSettings(defs: SettingDefs): Array<{ env: string; default: string; doc: string }> {
  return Object.values(defs).map((d) => ({
    env: d.env,
    default: d.default === undefined ? '(unset)' : JSON.stringify(d.default).replace(/^"|"$/g, ''),
    doc: d.doc,
  }));
}
