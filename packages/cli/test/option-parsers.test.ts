/**
 * Input checks of the CLI that need no process: numeric flags and AEGIS_ADMIN_URL are refused
 * with a typed error naming them, never replaced by a default or passed on as NaN. The command
 * run as a user runs it is in bad-input.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AegisError } from '@aegis-ipc/protocol';
import { errorCodeOf } from '@aegis-ipc/testing';
import { intOption, limitOption, portOption } from '../src/option-parsers.js';
import { adminRequest } from '../src/admin-client.js';

function codeOf(parse: () => unknown): string {
  try {
    parse();
    return 'no error';
  } catch (err) {
    return err instanceof AegisError ? err.code : `not an AegisError: ${String(err)}`;
  }
}

describe('numeric flags', () => {
  it('accept whole numbers in range', () => {
    expect(limitOption('25')).toBe(25);
    expect(portOption('0')).toBe(0);
    expect(intOption('--n', -5, 5)(' -3 ')).toBe(-3);
  });

  it('refuse anything else with VALIDATION_FAILED naming the flag', () => {
    for (const raw of ['abc', '', '5.5', '1e3', '0x10', '0', '10001']) expect(codeOf(() => limitOption(raw)), raw).toBe('VALIDATION_FAILED');
    for (const raw of ['-1', '65536', 'http']) expect(codeOf(() => portOption(raw)), raw).toBe('VALIDATION_FAILED');
    expect(() => limitOption('abc')).toThrow('--limit must be a whole number in 1…10000, got "abc"');
  });
});

describe('AEGIS_ADMIN_URL', () => {
  it('that is not an http(s) URL is CONFIG_INVALID naming the variable, before any request', async () => {
    expect(await errorCodeOf(adminRequest('/api/v1/admin/services', {}, { AEGIS_ADMIN_URL: 'notaurl' }))).toBe('CONFIG_INVALID');
    expect(await errorCodeOf(adminRequest('/api/v1/admin/services', {}, { AEGIS_ADMIN_URL: 'ftp://127.0.0.1' }))).toBe('CONFIG_INVALID');
    await expect(adminRequest('/x', {}, { AEGIS_ADMIN_URL: 'notaurl' })).rejects.toThrow('AEGIS_ADMIN_URL="notaurl" is invalid');
  });
});
