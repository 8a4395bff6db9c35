import { describe, expect, it } from 'vitest';
import { AegisError, resolveSettings, setting } from '../src/index.js';

const DEFS = {
  port: setting.int('T_PORT', 8080, 'a port', { max: 65_535 }),
  mode: setting.oneOf('T_MODE', 'auto', ['auto', 'never'], 'a mode'),
  on: setting.bool('T_ON', true, 'a flag'),
  name: setting.string('T_NAME', 'x', 'a name'),
  token: setting.optionalString('T_TOKEN', 'a secret', { secret: true }),
} as const;

function failure(run: () => unknown): AegisError {
  try {
    run();
  } catch (err) {
    if (err instanceof AegisError) return err;
    throw new Error(`not an AegisError: ${String(err)}`, { cause: err });
  }
  throw new Error('did not fail');
}

describe('resolveSettings', () => {
  it('takes defaults, then the environment, then options', () => {
    expect(resolveSettings(DEFS, {})).toEqual({ port: 8080, mode: 'auto', on: true, name: 'x', token: undefined });
    expect(resolveSettings(DEFS, { T_PORT: '9000', T_MODE: 'never', T_ON: 'off', T_TOKEN: 's' })).toMatchObject({ port: 9000, mode: 'never', on: false, token: 's' });
    expect(resolveSettings(DEFS, { T_PORT: '9000' }, { port: 0, name: 'y' })).toMatchObject({ port: 0, name: 'y' });
  });

  it('refuses a malformed variable with CONFIG_INVALID naming it', () => {
    const err = failure(() => resolveSettings(DEFS, { T_PORT: 'abc' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('T_PORT="abc" is invalid: expected an integer in 0…65535');
  });

  it('holds options to the same bounds as their variables, naming the option', () => {
    for (const overrides of [{ port: Number.NaN }, { port: -1 }, { port: 70_000 }, { port: 1.5 }, { mode: 'sometimes' as 'auto' }]) {
      expect(failure(() => resolveSettings(DEFS, {}, overrides)).code, JSON.stringify(overrides)).toBe('CONFIG_INVALID');
    }
    const err = failure(() => resolveSettings(DEFS, {}, { port: Number.NaN }));
    expect(err.message).toBe('option port=NaN is invalid: expected an integer in 0…65535 (as T_PORT)');
    expect(err.details).toMatchObject({ option: 'port', env: 'T_PORT', value: 'NaN' });
  });
});
