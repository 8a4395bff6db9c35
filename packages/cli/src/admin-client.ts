/**
 * The CLI's client for a running router's admin API. Reads `AEGIS_ADMIN_URL` (default
 * `http://127.0.0.1:8080`) and `AEGIS_ADMIN_TOKEN`; turns every failure into an AegisError with
 * a message that says what to do.
 */
import { AegisError, isWireError, setting, resolveSettings } from '@aegis-ipc/protocol';

export const ADMIN_CLIENT_SETTINGS = {
  adminUrl: setting.string('AEGIS_ADMIN_URL', 'http://127.0.0.1:8080', 'Admin API the CLI talks to.'),
  adminToken: setting.optionalString('AEGIS_ADMIN_TOKEN', 'Bearer token for the admin API (when the router requires one).', { secret: true }),
} as const;

export interface AdminRequest {
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly timeoutMs?: number;
}

/**
 * Calls `path` (e.g. `/api/v1/admin/services`) and returns the parsed JSON body.
 * @throws AegisError `CONFIG_INVALID` for an AEGIS_ADMIN_URL that is not an http(s) URL,
 *   `CONNECTION_FAILED` when the router is unreachable, or the code the API answered with.
 */
export async function adminRequest<T>(path: string, request: AdminRequest = {}, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const { adminUrl, adminToken } = resolveSettings(ADMIN_CLIENT_SETTINGS, env);
  const url = new URL(path, baseUrl(adminUrl));
  for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (adminToken !== undefined) headers.authorization = `Bearer ${adminToken}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new AegisError('CONNECTION_FAILED', `cannot reach the admin API at ${adminUrl} (is \`aegis router\` running? set AEGIS_ADMIN_URL otherwise): ${(err as Error).message}`, { cause: err });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (isWireError(body)) throw AegisError.fromWire(body);
    throw new AegisError('INTERNAL', `admin API answered ${response.status} ${response.statusText} for ${path}`);
  }
  return body as T;
}

/** @throws AegisError `CONFIG_INVALID` naming the variable, instead of fetch's bare "Invalid URL". */
function baseUrl(adminUrl: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(adminUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AegisError('CONFIG_INVALID', `AEGIS_ADMIN_URL=${JSON.stringify(adminUrl)} is invalid: expected an http(s) URL such as http://127.0.0.1:8080`, {
      details: { env: 'AEGIS_ADMIN_URL', value: adminUrl },
    });
  }
  return url;
}
