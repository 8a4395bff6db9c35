/**
 * Regenerates the configuration tables in README.md from the settings declarations, so the
 * documented defaults cannot drift from the code (a unit test compares them). Run:
 * `npm run docs:config`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTables } from './render-config-doc.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withConfigTables(readFileSync(readme, 'utf8')));
console.log('updated the configuration tables in README.md');
