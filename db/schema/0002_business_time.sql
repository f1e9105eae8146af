-- 0002_business_time.sql - when a movement happened, beside when it was recorded.
--
-- Tills and platforms send sales late; the rules follow the sale's time (occurred_at), not
-- the call's (created_at). Rows from before this file happened when they were recorded.

ALTER TABLE ledger ADD COLUMN occurred_at timestamptz;
-- The append-only trigger (db/functions/triggers.sql) exists on a database that ran an older
-- loyaltyd; this one backfill is the schema owner's.
ALTER TABLE ledger DISABLE TRIGGER USER;
UPDATE ledger SET occurred_at = created_at;
ALTER TABLE ledger ENABLE TRIGGER USER;
ALTER TABLE ledger ALTER COLUMN occurred_at SET NOT NULL;

-- Movements recorded more than an hour after they happened, but for imported history: what
-- `loyaltyctl audit list --late` shows (backdating into an ended campaign is the obvious
-- abuse). The rule: loyalty_late, db/functions/business_time.sql.
CREATE INDEX ledger_late ON ledger (txn_id)
  WHERE created_at - occurred_at > interval '1 hour' AND request_id NOT LIKE 'import %';

-- How far back a store key may date a sale; HQ keys may go further (recorded).
ALTER TABLE program ADD COLUMN max_backdate_days int NOT NULL DEFAULT 30
  CHECK (max_backdate_days BETWEEN 0 AND 3650);
