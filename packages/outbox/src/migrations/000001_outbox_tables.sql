-- 000001: command inbox, domain events and the event outbox (SPEC OB-2, OB-3, OB-6).
-- Append-only: never edit a migration that has shipped; add 000002_….sql instead.

CREATE TABLE command_inbox (
  id              uuid PRIMARY KEY,
  session_id      text NOT NULL,
  command_type    text NOT NULL,
  idempotency_key text,
  payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
  status          text NOT NULL DEFAULT 'RECEIVED'
                  CHECK (status IN ('RECEIVED', 'PROCESSING', 'COMPLETED', 'FAILED')),
  correlation_id  text NOT NULL CHECK (correlation_id <> ''),
  causation_id    text NOT NULL CHECK (causation_id <> ''),
  result          jsonb,
  error           jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- OB-3: at most one RECEIVED/PROCESSING command of a type per aggregate. The writer maps a
-- violation of this index (by name) to DUPLICATE_COMMAND.
CREATE UNIQUE INDEX idx_command_inbox_unique_pending_command
  ON command_inbox (session_id, command_type)
  WHERE status IN ('RECEIVED', 'PROCESSING');

-- A client retrying with the same key gets the first outcome back instead of a second command.
CREATE UNIQUE INDEX idx_command_inbox_idempotency_key
  ON command_inbox (session_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- OB-6: the single source of truth, ordered by `sequence`.
CREATE TABLE domain_events (
  sequence       bigserial PRIMARY KEY,
  event_id       uuid NOT NULL UNIQUE,
  correlation_id text NOT NULL CHECK (correlation_id <> ''),
  causation_id   text NOT NULL CHECK (causation_id <> ''),
  event_type     text NOT NULL,
  event_version  integer NOT NULL DEFAULT 1 CHECK (event_version >= 1),
  aggregate_type text NOT NULL,
  aggregate_id   text NOT NULL,
  payload        jsonb NOT NULL,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX domain_events_aggregate ON domain_events (aggregate_type, aggregate_id, sequence);
CREATE INDEX domain_events_causation ON domain_events (causation_id);

CREATE TABLE event_outbox (
  id              bigserial PRIMARY KEY,
  event_id        uuid NOT NULL UNIQUE REFERENCES domain_events (event_id),
  topic           text NOT NULL,
  key             text NOT NULL,
  payload         jsonb NOT NULL,
  headers         jsonb NOT NULL DEFAULT '{}'::jsonb,
  status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);

-- The claim walks pending rows in id order …
CREATE INDEX event_outbox_pending ON event_outbox (id) WHERE status = 'PENDING';
-- … and asks, per row, whether its aggregate has an earlier row not yet SENT.
CREATE INDEX event_outbox_unsent_by_key ON event_outbox (key, id) WHERE status <> 'SENT';

-- Wake relays at commit time (NOTIFY is delivered on commit, never for a rolled-back insert).
-- One notification per statement; PostgreSQL folds identical ones within a transaction.
CREATE FUNCTION aegis_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aegis_outbox', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER event_outbox_notify_insert
  AFTER INSERT ON event_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION aegis_outbox_notify();

-- A replayed row (FAILED → PENDING) wakes relays too.
CREATE TRIGGER event_outbox_notify_requeue
  AFTER UPDATE OF status ON event_outbox
  FOR EACH ROW WHEN (NEW.status = 'PENDING' AND OLD.status <> 'PENDING')
  EXECUTE FUNCTION aegis_outbox_notify();
