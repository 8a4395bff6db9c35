import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AegisError, isAegisError } from '@aegis-ipc/protocol';
import type { OutboxWriter } from '../../src/index.js';
import { createOutboxFixture, type OutboxFixture } from '../fixtures/outbox-fixture.js';

async function counts(fx: OutboxFixture): Promise<{ commands: number; events: number; outbox: number }> {
  const [row] = await fx.db.query<{ c: string; e: string; o: string }>(
    'SELECT (SELECT count(*) FROM command_inbox) c, (SELECT count(*) FROM domain_events) e, (SELECT count(*) FROM event_outbox) o',
  );
  return { commands: Number(row?.c), events: Number(row?.e), outbox: Number(row?.o) };
}

const base = (sessionId: string, commandType = 'RequestConceptGeneration') => ({
  aggregateType: 'GENESIS_SESSION',
  sessionId,
  commandType,
  payload: { theme: 'sci-fi' },
  correlationId: 'corr-1',
  causationId: 'req-1',
});

describe('OutboxWriter on PostgreSQL', () => {
  let fx: OutboxFixture;
  let writer: OutboxWriter;

  beforeAll(async () => {
    fx = await createOutboxFixture({ poolSize: 20 });
    writer = fx.writer();
  });
  afterAll(async () => {
    await fx.close();
  });

  describe('atomicity (OB-2): a failure after any of the three writes leaves none of them', () => {
    // Each failure point is a trigger that raises inside the same transaction: before and after
    // the command insert (the end of the first message: locks, BEGIN, INSERT), after the event
    // insert, the outbox insert and the status update (all in the statement that travels with
    // COMMIT: a failure there must skip the COMMIT of the same message), and at COMMIT (deferred).
    const points = [
      ['command_inbox', 'BEFORE INSERT', false],
      ['command_inbox', 'AFTER INSERT', false],
      ['command_inbox', 'AFTER UPDATE', false],
      ['domain_events', 'AFTER INSERT', false],
      ['event_outbox', 'AFTER INSERT', false],
      ['event_outbox', 'AFTER INSERT', true],
    ] as const;
    for (const api of ['submitCommand', 'recordCommand'] as const)
    for (const [table, when, deferred] of points) {
      it(`${api} fails ${deferred ? 'at commit after' : when} ${table}: nothing written`, async () => {
        const before = await counts(fx);
        await fx.db.query(`CREATE OR REPLACE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
        const trigger = deferred
          ? `CREATE CONSTRAINT TRIGGER test_boom AFTER INSERT ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_boom()`
          : `CREATE TRIGGER test_boom ${when} ON ${table} FOR EACH ROW EXECUTE FUNCTION test_boom()`;
        await fx.db.query(trigger);
        try {
          const outcome = { outcome: 'completed', events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested' }] } as const;
          const err = await (api === 'submitCommand' ? writer.submitCommand(base(randomUUID()), () => outcome) : writer.recordCommand(base(randomUUID()), outcome)).catch(
            (e: unknown) => e,
          );
          expect(isAegisError(err, 'STORAGE_FAILURE')).toBe(true);
        } finally {
          await fx.db.query(`DROP TRIGGER test_boom ON ${table}`);
        }
        expect(await counts(fx)).toEqual(before);
      });
    }

    it('a handler that throws after its own writes leaves nothing either', async () => {
      const before = await counts(fx);
      await expect(
        writer.submitCommand(base(randomUUID()), () => {
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      // an invalid event name is detected before any event is written, and rolls back the command
      await expect(
        writer.submitCommand(base(randomUUID()), () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.Did' }] })),
      ).rejects.toMatchObject({ code: 'EVENT_NAME_INVALID' });
      expect(await counts(fx)).toEqual(before);
    });
  });

  it('writes the three rows with correlation, causation and trace context', async () => {
    const session = randomUUID();
    const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const res = await writer.submitCommand({ ...base(session), trace: { traceparent }, metadata: { user_id: 'u1' } }, () => ({
      outcome: 'accepted',
      events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested', payload: { a: 1 } }],
    }));
    expect(res.status).toBe('RECEIVED');
    const [event] = res.events;
    expect(event).toMatchObject({
      correlation_id: 'corr-1',
      causation_id: res.commandId,
      aggregate_type: 'GENESIS_SESSION',
      aggregate_id: session,
      event_version: 1,
      metadata: { user_id: 'u1', command_id: res.commandId, trace: { traceparent } },
    });
    const [row] = await fx.db.query<{ status: string; key: string; headers: Record<string, string>; topic: string }>(
      'SELECT status, key, headers, topic FROM event_outbox WHERE event_id = $1',
      [event?.event_id],
    );
    expect(row).toEqual({ status: 'PENDING', key: session, headers: { traceparent }, topic: fx.topic });
  });

  it('writes several events, their outbox rows and the command status in draft order, with one NOTIFY', async () => {
    const session = randomUUID();
    const notified: string[] = [];
    const stop = await fx.db.listen('aegis_outbox', () => notified.push(session));
    try {
      const types = ['Genesis.Session.StageConfirmed', 'Genesis.Session.FeedbackSubmitted', 'Genesis.Session.ConceptGenerationRequested'];
      const res = await writer.submitCommand(base(session, 'ConfirmStage'), () => ({
        outcome: 'completed',
        result: { ok: true },
        events: types.map((eventType, n) => ({ eventType, payload: { n } })),
      }));
      expect(res.events.map((e) => e.event_type)).toEqual(types);
      const sequences = res.events.map((e) => Number(e.sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      const rows = await fx.db.query<{ event_id: string }>('SELECT event_id FROM event_outbox WHERE key = $1 ORDER BY id', [session]);
      expect(rows.map((r) => r.event_id)).toEqual(res.events.map((e) => e.event_id));
      const [cmd] = await fx.db.query<{ status: string; result: unknown }>('SELECT status, result FROM command_inbox WHERE id = $1', [res.commandId]);
      expect(cmd).toEqual({ status: 'COMPLETED', result: { ok: true } });
      await new Promise((r) => setTimeout(r, 100));
      expect(notified).toHaveLength(1);
    } finally {
      await stop();
    }
  });

  it('wakes relays after commit with a NOTIFY of its own, not from inside the transaction; never for a rollback (ADR 0013 round 3)', async () => {
    // A listener in another connection sees what a relay in another process sees.
    const outside = new pg.Client({ connectionString: fx.testDb.url });
    const payloads: string[] = [];
    outside.on('notification', (msg) => payloads.push(msg.payload ?? ''));
    await outside.connect();
    await outside.query('LISTEN aegis_outbox');
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));
    try {
      const session = randomUUID();
      const done = await writer.submitCommand(base(session, 'ConfirmStage'), () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed' }] }));
      await settle();
      // One notification, and not the trigger's (payload ''): the writer's post-commit one.
      expect(payloads).toHaveLength(1);
      expect(payloads[0]).not.toBe('');

      payloads.length = 0;
      await expect(
        writer.submitCommand(base(session, 'SubmitFeedback'), () => {
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      await settle();
      expect(payloads).toEqual([]);

      // Concurrent commits share wake-ups: at least one, at most one per command.
      const results = await Promise.all(
        Array.from({ length: 40 }, () =>
          writer.submitCommand(base(randomUUID(), 'ConfirmStage'), () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed' }] })),
        ),
      );
      await settle();
      expect(payloads.length).toBeGreaterThanOrEqual(1);
      expect(payloads.length).toBeLessThanOrEqual(40);
      expect(payloads.every((p) => p !== '')).toBe(true);
      expect(results.every((r) => r.events.length === 1)).toBe(true);

      // finishCommand writes events too, and wakes the same way.
      payloads.length = 0;
      const accepted = await writer.submitCommand(base(randomUUID()), () => ({ outcome: 'accepted' }));
      await settle();
      expect(payloads).toEqual([]); // no outbox row, no wake-up
      await writer.finishCommand(accepted.commandId, 'GENESIS_SESSION', () => ({ outcome: 'completed', events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested' }] }));
      await settle();
      expect(payloads).toHaveLength(1);
      expect(done.events).toHaveLength(1);
    } finally {
      await outside.end();
    }
  });

  it('requires correlation and causation ids', async () => {
    await expect(writer.submitCommand({ ...base(randomUUID()), correlationId: '' }, () => ({ outcome: 'completed' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(writer.submitCommand({ ...base(randomUUID()), causationId: ' ' }, () => ({ outcome: 'completed' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  describe('recordCommand: a known outcome in one message', () => {
    it('writes the command, its events, their outbox rows and the status, in draft order', async () => {
      const session = randomUUID();
      const types = ['Genesis.Session.StageConfirmed', 'Genesis.Session.FeedbackSubmitted'];
      const res = await writer.recordCommand(base(session, 'ConfirmStage'), { outcome: 'completed', result: { ok: 1 }, events: types.map((eventType) => ({ eventType })) });
      expect(res).toMatchObject({ status: 'COMPLETED', result: { ok: 1 }, replayed: false });
      expect(res.events.map((e) => e.event_type)).toEqual(types);
      expect(res.events.every((e) => e.causation_id === res.commandId && e.aggregate_id === session)).toBe(true);
      const [cmd] = await fx.db.query<{ status: string; result: unknown }>('SELECT status, result FROM command_inbox WHERE id = $1', [res.commandId]);
      expect(cmd).toEqual({ status: 'COMPLETED', result: { ok: 1 } });
      const rows = await fx.db.query<{ event_id: string; status: string }>('SELECT event_id, status FROM event_outbox WHERE key = $1 ORDER BY id', [session]);
      expect(rows).toEqual(res.events.map((e) => ({ event_id: e.event_id, status: 'PENDING' })));
      // 'accepted' without result or events: the command alone, RECEIVED.
      const accepted = await writer.recordCommand(base(session, 'SubmitFeedback'), { outcome: 'accepted' });
      const [pending] = await fx.db.query<{ status: string }>('SELECT status FROM command_inbox WHERE id = $1', [accepted.commandId]);
      expect(pending?.status).toBe('RECEIVED');
    });

    it('a pending duplicate is DUPLICATE_COMMAND with its id; concurrent duplicates → exactly one accepted', async () => {
      const session = randomUUID();
      const first = await writer.submitCommand(base(session), () => ({ outcome: 'accepted' }));
      await expect(writer.recordCommand(base(session), { outcome: 'accepted' })).rejects.toMatchObject({
        code: 'DUPLICATE_COMMAND',
        details: { duplicate_command_id: first.commandId },
      });
      const other = randomUUID();
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => writer.recordCommand(base(other), { outcome: 'accepted' })));
      const accepted = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<OutboxWriter['recordCommand']>>> => r.status === 'fulfilled');
      expect(accepted).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'DUPLICATE_COMMAND', details: { duplicate_command_id: accepted[0]?.value.commandId } });
      }
    });

    it('an idempotency key replays the first outcome; an invalid event name writes nothing', async () => {
      const session = randomUUID();
      const input = { ...base(session, 'ConfirmStage'), idempotencyKey: 'record-key' };
      const outcome = { outcome: 'completed', events: [{ eventType: 'Genesis.Session.StageConfirmed' }] } as const;
      const first = await writer.recordCommand(input, outcome);
      const again = await writer.recordCommand(input, outcome);
      expect(again).toMatchObject({ commandId: first.commandId, replayed: true, status: 'COMPLETED' });
      expect(again.events.map((e) => e.event_id)).toEqual(first.events.map((e) => e.event_id));
      const before = await counts(fx);
      await expect(writer.recordCommand(base(randomUUID()), { outcome: 'completed', events: [{ eventType: 'Genesis.Session.Did' }] })).rejects.toMatchObject({ code: 'EVENT_NAME_INVALID' });
      expect(await counts(fx)).toEqual(before);
    });
  });

  it('200 concurrent duplicates → 1 accepted, 199 DUPLICATE_COMMAND carrying its id (OB-3)', async () => {
    const session = randomUUID();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        writer.submitCommand(base(session), () => ({ outcome: 'accepted', events: [{ eventType: 'Genesis.Session.ConceptGenerationRequested' }] })),
      ),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(accepted).toHaveLength(1);
    expect(rejected).toHaveLength(199);
    const acceptedId = (accepted[0] as PromiseFulfilledResult<{ commandId: string }>).value.commandId;
    for (const r of rejected) {
      const err = r.reason as AegisError<'DUPLICATE_COMMAND'>;
      expect(err).toBeInstanceOf(AegisError);
      expect(err.code).toBe('DUPLICATE_COMMAND');
      expect(err.message).toBe('Command already processing');
      expect(err.details?.duplicate_command_id).toBe(acceptedId);
    }
    const [c] = await fx.db.query<{ n: string }>('SELECT count(*) n FROM command_inbox WHERE session_id = $1', [session]);
    expect(Number(c?.n)).toBe(1);
  });

  it('finishing the pending command frees the index for the next command of that type', async () => {
    const session = randomUUID();
    const first = await writer.submitCommand(base(session), () => ({ outcome: 'accepted' }));
    await writer.markProcessing(first.commandId);
    await expect(writer.submitCommand(base(session), () => ({ outcome: 'accepted' }))).rejects.toMatchObject({ code: 'DUPLICATE_COMMAND' });
    const done = await writer.finishCommand(first.commandId, 'GENESIS_SESSION', () => ({
      outcome: 'completed',
      result: { concepts: 3 },
      events: [{ eventType: 'Genesis.Session.Concept.Proposed', payload: { concepts: 3 } }],
    }));
    expect(done).toMatchObject({ status: 'COMPLETED', result: { concepts: 3 } });
    expect(done.events[0]?.causation_id).toBe(first.commandId);
    await expect(writer.finishCommand(first.commandId, 'GENESIS_SESSION', () => ({ outcome: 'completed' }))).rejects.toMatchObject({
      code: 'COMMAND_NOT_PENDING',
    });
    const second = await writer.submitCommand(base(session), () => ({ outcome: 'accepted' }));
    expect(second.commandId).not.toBe(first.commandId);
  });

  it('an idempotency key makes a retry return the first outcome, even concurrently', async () => {
    const session = randomUUID();
    const input = { ...base(session, 'ConfirmStage'), idempotencyKey: 'key-1' };
    const handler = () => ({ outcome: 'completed' as const, result: { ok: true }, events: [{ eventType: 'Genesis.Session.StageConfirmed' }] });
    const results = await Promise.all(Array.from({ length: 20 }, () => writer.submitCommand(input, handler)));
    const ids = new Set(results.map((r) => r.commandId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of results) {
      expect(r.status).toBe('COMPLETED');
      expect(r.result).toEqual({ ok: true });
      expect(r.events).toHaveLength(1);
    }
    const [e] = await fx.db.query<{ n: string }>('SELECT count(*) n FROM domain_events WHERE aggregate_id = $1', [session]);
    expect(Number(e?.n)).toBe(1);
    await expect(writer.submitCommand({ ...input, commandType: 'SubmitFeedback' }, handler)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
