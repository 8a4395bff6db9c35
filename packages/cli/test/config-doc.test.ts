import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withConfigTables } from '../../../scripts/render-config-doc.js';

describe('README configuration tables', () => {
  it('match the settings declarations (regenerate with `npm run docs:config`)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withConfigTables(readme));
  });
});
