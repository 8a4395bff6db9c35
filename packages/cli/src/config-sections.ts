/**
 * Every component's settings declarations, in the order the configuration reference lists them.
 * One list feeds the README tables (`npm run docs:config`) and `aegis config`, so neither can
 * drift from the code.
 */
import type { SettingDefs } from '@aegis-ipc/protocol';
// The settings entry point, not the package root: listing settings must not load fastify & co.
import { ROUTER_SETTINGS } from '@aegis-ipc/router/settings';
import { EVENT_SETTINGS } from '@aegis-ipc/sdk/settings';
import { OUTBOX_SETTINGS } from '@aegis-ipc/outbox/settings';
import { ADMIN_CLIENT_SETTINGS } from './admin-client.js';

export interface ConfigSection {
  readonly title: string;
  /** The process(es) that read these settings. */
  readonly process: string;
  readonly defs: SettingDefs;
}

export const CONFIG_SECTIONS: readonly ConfigSection[] = [
  { title: 'Router', process: '`aegis router` / `npm start`', defs: ROUTER_SETTINGS },
  // `connect()` and `createEventBus()` take these as options, not from the environment.
  { title: 'Events', process: '`aegis events` and `openEventBus()`; services pass the matching `connect({ events })` / `createEventBus()` options', defs: EVENT_SETTINGS },
  // `OutboxWriter` and `openDatabase()` take options; an app reads these with `resolveOutboxSettings()`.
  { title: 'Outbox and relay', process: '`aegis relay`, `aegis outbox`, the genesis example; apps pass `resolveOutboxSettings()` values to `openDatabase()` / `OutboxWriter`', defs: OUTBOX_SETTINGS },
  { title: 'CLI', process: '`aegis services|health|trace|messages|…`', defs: ADMIN_CLIENT_SETTINGS },
];
