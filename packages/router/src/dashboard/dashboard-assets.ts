/**
 * The dashboard's static files (plain HTML, CSS and ES modules — no build step), read once into
 * memory when the plugin registers. Serving from a fixed in-memory map means no request path ever
 * reaches the file system, and a few tens of kilobytes cost nothing to keep.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AegisError } from '@aegis-ipc/protocol';

export interface DashboardAsset {
  readonly body: string;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

// Running from sources the files sit next to this module; a `tsc` build does not copy them into
// dist/, so a built router reads them from the package's src/ (listed in package.json "files").
const CANDIDATES = [new URL('./static/', import.meta.url), new URL('../../src/dashboard/static/', import.meta.url)];

/**
 * Loads every asset by file name (`index.html`, `dashboard.js`, …).
 * @throws AegisError `INTERNAL` when the static directory is missing from the installation.
 */
export async function loadDashboardAssets(): Promise<ReadonlyMap<string, DashboardAsset>> {
  const dir = CANDIDATES.map((url) => fileURLToPath(url)).find((path) => existsSync(path));
  if (dir === undefined) throw new AegisError('INTERNAL', `dashboard assets not found (looked in ${CANDIDATES.map((u) => fileURLToPath(u)).join(', ')})`);
  const assets = new Map<string, DashboardAsset>();
  for (const name of await readdir(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const contentType = CONTENT_TYPES[ext];
    if (contentType !== undefined) assets.set(name, { body: await readFile(`${dir}${name}`, 'utf8'), contentType });
  }
  return assets;
}
