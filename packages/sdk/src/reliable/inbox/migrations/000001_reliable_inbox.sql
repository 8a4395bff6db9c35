-- Transactional inbox of exactly-once calls (issue 4, EO-4 strength 2). One row per processed
-- message id, written in the same transaction as the handler's own writes: the row exists if and
-- only if the handler's effects committed. The primary key serialises concurrent duplicates.
CREATE TABLE aegis_reliable_inbox (
  message_id   text PRIMARY KEY,
  service_name text NOT NULL,
  response     bytea,            -- MessagePack of the handler's response
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- Pruning old rows scans by age.
CREATE INDEX aegis_reliable_inbox_processed_at ON aegis_reliable_inbox (processed_at);
