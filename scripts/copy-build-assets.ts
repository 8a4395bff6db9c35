/**
 * Copies the files a package reads at run time next to its compiled code — SQL migrations, the
 * dashboard's static pages — from `packages/<name>/src/**` to `packages/<name>/dist/**`, because
 * `tsc` only emits JavaScript and the code finds them relative to `import.meta.url`.
 * Run by `npm run build` after `tsc -b`.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Extensions of run-time assets (everything else under src/ is TypeScript or tests). */
const ASSET_EXTENSIONS = new Set(['.sql', '.html', '.css']);

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));

function* assetsUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* assetsUnder(path);
    else if (ASSET_EXTENSIONS.has(extname(entry.name))) yield path;
  }
}

let copied = 0;
for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, 'src');
  const dist = join(packagesDir, pkg, 'dist');
  if (!existsSync(src) || !existsSync(dist)) continue;
  for (const asset of assetsUnder(src)) {
    const target = join(dist, relative(src, asset));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(asset, target);
    copied++;
  }
}
console.log(`copied ${copied} run-time asset(s) into dist/`);
