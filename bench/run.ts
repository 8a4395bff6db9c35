/**
 * `npm run bench -- <name> [args]` runs `bench/<name>.ts`. Every benchmark measures a raw
 * baseline and AegisIPC in the same run, prints a table, and ends with one JSON line holding all
 * figures and a `summary`.
 */
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|') || 'name'}>`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(new URL(`./${name}.ts`, import.meta.url).pathname).href);
