/**
 * docs/logging.md names every `event` the SDK, router and relay log (SPEC OBS-3, REG-6): an event
 * added to the code without a row in the doc fails here. The doc's names are read from its
 * backticks, the code's from `event: '…'` literals and the events' EVENT_LOG_EVENTS table.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function loggedEvents(): Set<string> {
  const names = new Set<string>();
  for (const pkg of ['sdk', 'router', 'outbox']) {
    for (const file of sources(join(root, 'packages', pkg, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/event: (?:[^,}]*\? )?'([a-z_]+)'(?: : '([a-z_]+)')?/g)) {
        names.add(m[1]!);
        if (m[2] !== undefined) names.add(m[2]);
      }
      const table = /EVENT_LOG_EVENTS = \{([^}]*)\}/.exec(text);
      if (table !== null) for (const m of table[1]!.matchAll(/'([a-z_]+)'/g)) names.add(m[1]!);
    }
  }
  return names;
}

describe('docs/logging.md', () => {
  it('documents every event name the code logs', () => {
    const doc = readFileSync(join(root, 'docs/logging.md'), 'utf8');
    const logged = loggedEvents();
    expect(logged.size).toBeGreaterThan(50); // the scan found the code's events
    const missing = [...logged].filter((name) => !doc.includes(`\`${name}\``)).sort();
    expect(missing).toEqual([]);
  });
});
