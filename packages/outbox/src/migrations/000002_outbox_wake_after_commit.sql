-- 000002: a transaction that wakes the relays itself after it commits skips the trigger's NOTIFY.
--
-- PostgreSQL serializes the commits of transactions that issued NOTIFY (PreCommit_Notify takes a
-- database-wide lock held until the commit, WAL flush included, is done), so writers that notify
-- inside their transaction fsync one after another instead of sharing a group commit. The
-- PostgreSQL writer therefore opens its transactions with `SET LOCAL aegis.outbox_wake =
-- 'after_commit'`; the trigger then only records that a wake-up is due ('due'), the writer reads
-- that just before COMMIT (same message) and, once committed, sends one NOTIFY for the commits of
-- a moment (docs/adr/0013, round 3). Every other transaction — older writers, `appendEvents` in a
-- caller's transaction without that option, PGlite, `aegis outbox replay`, hand-written inserts —
-- leaves the setting unset and notifies at commit exactly as before.
CREATE OR REPLACE FUNCTION aegis_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('aegis.outbox_wake', true) IN ('after_commit', 'due') THEN
    PERFORM set_config('aegis.outbox_wake', 'due', true);
  ELSE
    PERFORM pg_notify('aegis_outbox', '');
  END IF;
  RETURN NULL;
END
$$;
