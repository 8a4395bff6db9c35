/**
 * A connection URL fit for an error message or a log line: the password replaced by `***`.
 * Input that does not parse as a URL (`127.0.0.1:4222`) is shown as it is unless it holds
 * credentials (`user:pass@…`), which are never echoed.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.includes('@') ? '(unparseable URL with credentials)' : raw;
  }
  if (url.password !== '') url.password = '***';
  return url.toString();
}
