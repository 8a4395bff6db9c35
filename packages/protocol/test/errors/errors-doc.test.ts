import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErrorsDoc } from '../../../../scripts/render-errors-doc.js';

describe('docs/errors.md', () => {
  it('matches the error registry (regenerate with `npm run docs:errors`)', () => {
    const onDisk = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderErrorsDoc());
  });
});
