import { describe, expect, it } from 'vitest';
import { describeSettings } from '@aegis-ipc/protocol';
import { OUTBOX_SETTINGS, resolveOutboxSettings } from '../src/index.js';

describe('outbox settings', () => {
  it('defaults: poll 5 s, batch 100, PGlite under ./.aegis/pg, NATS on loopback', () => {
    const s = resolveOutboxSettings({});
    expect(s).toMatchObject({ pollInterval: 5, batchSize: 100, databaseUrl: undefined, pgliteDir: './.aegis/pg', natsUrl: 'nats://127.0.0.1:4222', sink: 'nats' });
  });
  it('parses RELAY_POLL_INTERVAL in seconds and rejects bad values with CONFIG_INVALID', () => {
    expect(resolveOutboxSettings({ RELAY_POLL_INTERVAL: '0.5', RELAY_BATCH_SIZE: '10' })).toMatchObject({ pollInterval: 0.5, batchSize: 10 });
    expect(() => resolveOutboxSettings({ RELAY_POLL_INTERVAL: 'soon' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveOutboxSettings({ RELAY_BATCH_SIZE: '0' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
  it('declares every env var once, with docs, for the configuration reference', () => {
    const rows = describeSettings(OUTBOX_SETTINGS);
    expect(rows.map((r) => r.env)).toContain('RELAY_POLL_INTERVAL');
    for (const r of rows) expect(r.doc.length).toBeGreaterThan(10);
  });
});
