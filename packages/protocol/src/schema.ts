/**
 * One schema source per payload (DESIGN "HTTP"): a TypeBox definition gives the TypeScript type
 * (`Static<typeof X>`), the runtime validator (JIT-compiled once) and the OpenAPI/JSON schema.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AegisError } from './errors/aegis-error.js';
import type { FieldError } from './errors/error-details.js';

export { Type, type Static, type TSchema };

/** A compiled schema: a type guard and a parser that throws a typed, field-level error. */
export interface CompiledSchema<T extends TSchema> {
  readonly schema: T;
  /** True when `value` matches. */
  check(value: unknown): value is Static<T>;
  /**
   * Returns `value` typed when it matches.
   * @throws AegisError `VALIDATION_FAILED` with one entry per failed field.
   */
  parse(value: unknown, what?: string): Static<T>;
  /** The field errors of `value` (empty when valid). */
  errors(value: unknown): FieldError[];
}

/** Compiles `schema` once; call at module load, not per message. */
export function compileSchema<T extends TSchema>(schema: T): CompiledSchema<T> {
  const validator = Compile(schema);
  const errors = (value: unknown): FieldError[] => {
    const seen = new Set<string>();
    const out: FieldError[] = [];
    for (const e of validator.Errors(value)) {
      // `additionalProperties` is reported twice by TypeBox (once per extra key, once for the
      // object); keep one line per distinct path+message.
      if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
      const message =
        e.keyword === 'additionalProperties'
          ? `unknown field(s): ${(e.params).additionalProperties.join(', ')}`
          : e.message;
      const key = `${e.instancePath} ${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path: e.instancePath === '' ? '/' : e.instancePath, message });
    }
    return out;
  };
  return {
    schema,
    check: (value): value is Static<T> => validator.Check(value),
    errors,
    parse(value, what = 'payload') {
      if (validator.Check(value)) return value;
      const fields = errors(value);
      const first = fields[0];
      const summary = first === undefined ? 'is invalid' : `${first.path}: ${first.message}`;
      throw new AegisError('VALIDATION_FAILED', `invalid ${what}: ${summary}`, { details: { fields } });
    },
  };
}
