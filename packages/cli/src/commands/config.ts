/** `aegis config` — the resolved configuration of every component: value, source, meaning. */
import type { Command } from 'commander';
import { resolveSettings } from '@aegis-ipc/protocol';
import { printJson, printTable, type OutputOptions } from '../output.js';

export function register(program: Command): void {
  program
    .command('config')
    .description('print the resolved configuration (environment over defaults); secrets are masked')
    .option('--json', 'print JSON')
    .action(async (opts: OutputOptions) => {
      // Loaded on use so other commands do not pay for every package's settings module.
      const { CONFIG_SECTIONS } = await import('../config-sections.js');
      const sections = CONFIG_SECTIONS.map(({ title, defs }) => {
        // Resolving validates too: a malformed variable fails here with CONFIG_INVALID.
        const values = resolveSettings(defs, process.env) as Record<string, unknown>;
        const settings = Object.entries(defs).map(([key, def]) => {
          const fromEnv = process.env[def.env] !== undefined && process.env[def.env] !== '';
          const value = values[key];
          return { env: def.env, value: def.secret && value !== undefined ? '***' : value ?? null, source: fromEnv ? 'env' : 'default' };
        });
        return { section: title, settings };
      });
      if (opts.json) return printJson(sections);
      for (const { section, settings } of sections) {
        process.stdout.write(`${section}\n`);
        printTable(settings, ['env', 'value', 'source']);
        process.stdout.write('\n');
      }
    });
}
