-- 0006_member_analytics.sql - indexes for HQ's reports (db/functions/reports.sql,
-- report_members.sql; docs/analytics.md).
--
-- Reports read purchases by when they happened (occurred_at): the ones of a period, of the
-- last 12 months. The earn rows by occurred_at, carrying what a report needs so the scan
-- never visits the wide ledger rows (hashes, reasons).
CREATE INDEX ledger_earn_occurred ON ledger (occurred_at)
  INCLUDE (txn_id, member_id, amount_cents, store_id, created_at) WHERE kind = 'earn';

-- The members merged into others (a report's people follow merges): few rows.
CREATE INDEX members_merged ON members (member_id) WHERE merged_into IS NOT NULL;
