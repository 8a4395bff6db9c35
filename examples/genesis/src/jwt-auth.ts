/**
 * JWT Bearer authentication for the command API (SPEC OB-1): the signature algorithm must be on
 * an allow-list (so `alg: none` or an RS/HS confusion cannot pass), and `exp`, `iss` and `aud`
 * are checked by jose. The subject (`sub`) becomes the user id recorded in event metadata.
 */
import { jwtVerify, errors as joseErrors } from 'jose';
import { AegisError } from '@aegis-ipc/protocol';

export interface JwtAuthOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** @default ['HS256'] */
  readonly algorithms?: readonly string[];
}

export interface Principal {
  readonly userId: string;
}

const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);

/**
 * Returns a verifier of `Authorization` header values.
 * @throws AegisError `CONFIG_INVALID` when an algorithm is not an HMAC algorithm.
 */
export function createJwtVerifier(options: JwtAuthOptions): (authorization: string | undefined) => Promise<Principal> {
  const algorithms = [...(options.algorithms ?? ['HS256'])];
  for (const alg of algorithms) {
    if (!HMAC_ALGORITHMS.has(alg)) throw new AegisError('CONFIG_INVALID', `JWT algorithm ${alg} is not allowed with a shared secret (use HS256/384/512)`);
  }
  const key = new TextEncoder().encode(options.secret);
  return async (authorization) => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (match?.[1] === undefined) throw new AegisError('UNAUTHORIZED', 'missing Bearer token');
    try {
      const { payload } = await jwtVerify(match[1], key, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['exp', 'sub'],
      });
      return { userId: String(payload.sub) };
    } catch (err) {
      // Say what failed (expired, wrong audience…) without echoing the token.
      const reason = err instanceof joseErrors.JOSEError ? err.code : 'invalid token';
      throw new AegisError('UNAUTHORIZED', `invalid Bearer token (${reason})`, { cause: err });
    }
  };
}
