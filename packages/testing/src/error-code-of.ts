import { AegisError } from '@aegis-ipc/protocol';

/**
 * The AegisError code a promise rejects with (`'no error'` when it resolves), so a test can
 * assert a typed failure in one line: `expect(await errorCodeOf(call())).toBe('TIMEOUT')`.
 */
export async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    return err instanceof AegisError ? (err as AegisError).code : `not an AegisError: ${String(err)}`;
  }
}
