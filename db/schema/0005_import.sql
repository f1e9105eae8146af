-- 0005_import.sql - importing a brand's history from its old CRM or POS
-- (loyaltyctl import; db/functions/import.sql; docs/import.md).
--
-- Imported rows are ordinary ledger rows, chained like every other: purchases are `earn`,
-- refunds `refund`, opening balances a kind of their own, `opening`, whose order_id is the
-- lot's last day (the balance file's row key is (member, expires_on)). Every imported row's
-- request_id is 'import <run_id>': live request_ids never contain a space.

-- When the member enrolled in the old system (NULL: when the row was made, created_at).
ALTER TABLE members ADD COLUMN enrolled_at timestamptz;

-- One opening balance per member and last day.
CREATE UNIQUE INDEX ledger_opening ON ledger (member_id, order_id) WHERE kind = 'opening';

-- A run of one file of one kind, keyed by the file's SHA-256: last_line is the last line
-- whose batch committed, in that batch's transaction, so a run cut off half-way resumes
-- after it and a finished file run again skips every line.
CREATE TABLE import_runs (
  run_id      bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('stores', 'members', 'balances', 'orders')),
  file_sha256 text NOT NULL,
  principal   text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  last_line   bigint NOT NULL DEFAULT 0,
  imported    bigint NOT NULL DEFAULT 0,  -- rows written
  skipped     bigint NOT NULL DEFAULT 0,  -- rows already there (by their row key)
  rejected    bigint NOT NULL DEFAULT 0,
  UNIQUE (kind, file_sha256)
);

-- The rows a run rejected, with why: a resumed or repeated run reports them again.
CREATE TABLE import_rejections (
  run_id bigint NOT NULL REFERENCES import_runs,
  line   bigint NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (run_id, line)
);

GRANT INSERT, UPDATE ON import_runs TO loyalty_server;
GRANT INSERT ON import_rejections TO loyalty_server;
