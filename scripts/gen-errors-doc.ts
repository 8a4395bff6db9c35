/**
 * Writes docs/errors.md from the error registry, so the documented table cannot drift from the
 * code (a unit test compares the two). Run: `npm run docs:errors`.
 */
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from './render-errors-doc.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
console.log('wrote docs/errors.md');
