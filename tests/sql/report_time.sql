-- report_time: the report time rule (db/functions/reports.sql; docs/analytics.md).
-- "The last N months" as of D start at D + 1 day - N months, month ends clamped; a report's
-- as_of ends at the next local midnight in the program's time zone.
\set VERBOSITY terse
-- 1. The last 3, 6, 12 months at month ends and in the middle of a month. As of 2026-06-30
-- the last 3 months are April-June; as of 2026-05-30 they start on 2026-02-28 (clamped); as
-- of 2024-05-30 on 2024-02-29 (a leap year).
SELECT d AS as_of, loyalty_report_months_from(d, 3) AS last_3,
       loyalty_report_months_from(d, 6) AS last_6, loyalty_report_months_from(d, 12) AS last_12,
       loyalty_report_months_from(d, 24) AS last_24
FROM unnest('{2026-06-30,2026-05-30,2026-05-31,2024-05-30,2026-03-15,2026-12-31}'::date[]) d;

-- 2. as_of ends at the following midnight in Asia/Shanghai (UTC+8): 16:00 UTC.
SELECT occurred_before AT TIME ZONE 'UTC' AS ends_utc, time_zone
FROM loyalty_report_bounds('2026-11-11', '2026-12-01T00:00:00Z');

-- 3. The stages and the classes partition: every name once, in report order.
SELECT stage, ord, label, rank FROM loyalty_report_stage_names() ORDER BY ord;
SELECT class, label, r_high, f_high, m_high FROM loyalty_report_rfm_classes() ORDER BY ord;
