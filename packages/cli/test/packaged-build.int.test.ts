/**
 * `npm run build` produces packages that run without the TypeScript sources: the compiled CLI
 * starts, and the run-time assets the code reads next to itself (SQL migrations, dashboard
 * pages) are in dist/. Runs the real build, in its own vitest project after every other test
 * (vitest.config.ts), and removes what it built unless a build was there before — a leftover
 * dist/ would make `bin/aegis.js` run stale compiled code instead of the sources.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD_TIMEOUT_MS = 240_000;
/** Plain node: no `source` condition, so workspace packages resolve to their dist/. */
const node = (args: string[], cwd = ROOT) => run(process.execPath, args, { cwd, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('the packaged build', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'aegis-build-'));
  const packages = readdirSync(join(ROOT, 'packages'));
  const builtBefore = packages.filter((pkg) => existsSync(join(ROOT, 'packages', pkg, 'dist')));
  beforeAll(async () => {
    await run('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
  }, BUILD_TIMEOUT_MS);
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    for (const pkg of packages) {
      if (builtBefore.includes(pkg)) continue;
      rmSync(join(ROOT, 'packages', pkg, 'dist'), { recursive: true, force: true });
      rmSync(join(ROOT, 'packages', pkg, 'tsconfig.build.tsbuildinfo'), { force: true });
    }
  });

  it('copies every run-time asset of every package next to its compiled code', () => {
    const isAsset = (name: string) => /\.(sql|html|css)$/.test(name);
    let assets = 0;
    for (const pkg of packages) {
      const src = join(ROOT, 'packages', pkg, 'src');
      if (!existsSync(src)) continue;
      for (const asset of filesUnder(src, isAsset)) {
        assets++;
        expect(existsSync(join(ROOT, 'packages', pkg, 'dist', asset)), `${pkg}/dist/${asset}`).toBe(true);
      }
    }
    expect(assets).toBeGreaterThanOrEqual(5);
  });

  it('runs the compiled CLI without TypeScript sources', async () => {
    const { stdout } = await node([join(ROOT, 'packages/cli/dist/main.js'), 'config', '--json']);
    expect(JSON.stringify(JSON.parse(stdout))).toContain('AEGIS_NAMESPACE');
  });

  it('applies the outbox migrations from the compiled package (embedded PGlite)', async () => {
    const script = `
      import { openDatabase, migrate } from '@aegis-ipc/outbox';
      const db = await openDatabase({ pgliteDir: ${JSON.stringify(join(scratch, 'pg'))} });
      const applied = await migrate(db);
      console.log(JSON.stringify(applied));
      await db.close();`;
    const { stdout } = await node(['--input-type=module', '-e', script], join(ROOT, 'packages/outbox'));
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toContain(1);
  });
});
