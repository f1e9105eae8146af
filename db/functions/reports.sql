-- reports.sql - what every HQ report (docs/analytics.md) shares: the report time rule, the
-- people a report counts (merges), and what "a purchase" is. The reports themselves are
-- report_*.sql; they read the ledger through these functions and nothing else decides
-- these three things.
--
-- Time: a report is asked "as of" a date and "as known at" a moment.
--   as_of     a date: movements that happened (occurred_at) up to the end of that day in the
--             program's time zone count;
--   known_at  a moment (default now): only ledger rows recorded (created_at) by then count.
-- So the same as_of and known_at give the same answer, and a late sale changes a past report
-- only for a later known_at. A closed month is asked with known_at = its close.
--
-- People: a member merged into another (members.merged_into) is the same person as the kept
-- member, from the first day: its purchases count as the kept member's. The merge counts only
-- once known (its merge_out row recorded by known_at); before that they are two people.
-- Chains (A into B, B later into C) are followed to the end. Only people (members not merged
-- away as known then) are counted as members.
--
-- A purchase: an earn (pending or released) that happened by as_of and whose order is not
-- fully refunded by as_of; dated by its occurred_at, valued at its amount net of the refunds
-- that happened by as_of (and were recorded by known_at).

-- The bounds of a report: as_of's end (exclusive) as a moment, known_at (NULL: now), and the
-- program's time zone in which dates are read.
CREATE OR REPLACE FUNCTION loyalty_report_bounds(p_as_of date, p_known_at timestamptz,
                                                 OUT as_of date,
                                                 OUT occurred_before timestamptz,
                                                 OUT known_at timestamptz,
                                                 OUT time_zone text)
LANGUAGE sql STABLE AS $$
  SELECT p_as_of, (p_as_of + 1)::timestamp AT TIME ZONE p.time_zone,
         coalesce(p_known_at, now()), p.time_zone
  FROM program p
$$;

-- The first day of "the last N months" as of p_as_of: p_as_of + 1 day - N months, month ends
-- clamped as PostgreSQL's date - interval does it (the last 3 months as of 2026-06-30 are
-- 2026-04-01 .. 2026-06-30; as of 2026-05-30, 2026-02-28 .. 2026-05-30).
CREATE OR REPLACE FUNCTION loyalty_report_months_from(p_as_of date, p_months int)
RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT ((p_as_of + 1) - make_interval(months => p_months))::date
$$;

-- The merges known at p_known_at: each merged member with the person it now belongs to (the
-- end of its chain of merges known then).
CREATE OR REPLACE FUNCTION loyalty_report_merges(p_known_at timestamptz)
RETURNS TABLE (member_id bigint, person_id bigint)
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE known AS (
    SELECT m.member_id, m.merged_into AS kept
    FROM members m JOIN ledger o ON o.member_id = m.member_id AND o.kind = 'merge_out'
    WHERE m.merged_into IS NOT NULL AND o.created_at <= coalesce(p_known_at, now())
  ), chain (member_id, person_id, depth) AS (
    SELECT k.member_id, k.kept, 1 FROM known k
    UNION ALL
    SELECT c.member_id, k.kept, c.depth + 1
    FROM chain c JOIN known k ON k.member_id = c.person_id
    WHERE c.depth < 64
  )
  SELECT DISTINCT ON (c.member_id) c.member_id, c.person_id
  FROM chain c ORDER BY c.member_id, c.depth DESC
$$;

-- The people a report counts: members recorded by known_at, not merged away as known then,
-- with their enrolment day (the old system's enrolled_at for imported members, else when the
-- row was made; in the program's time zone) and the store they enrolled at (NULL: HQ).
-- Includes people enrolled after as_of: callers filter on enrolled_on.
CREATE OR REPLACE FUNCTION loyalty_report_people(p_known_at timestamptz)
RETURNS TABLE (member_id bigint, enrolled_on date, enrolled_store_id int)
LANGUAGE sql STABLE AS $$
  SELECT m.member_id,
         (coalesce(m.enrolled_at, m.created_at) AT TIME ZONE p.time_zone)::date,
         m.enrolled_store_id
  FROM members m CROSS JOIN program p
  WHERE m.created_at <= coalesce(p_known_at, now())
    AND NOT EXISTS (SELECT 1 FROM loyalty_report_merges(p_known_at) g
                    WHERE g.member_id = m.member_id)
$$;

-- The purchases as of p_as_of, as known at p_known_at (see the top of this file), that
-- happened on or after p_since (a local date; NULL: all of them). member_id is the person
-- (merges followed); day is the local date of occurred_at; net_cents > 0.
CREATE OR REPLACE FUNCTION loyalty_purchases(p_as_of date, p_known_at timestamptz,
                                             p_since date DEFAULT NULL)
RETURNS TABLE (txn_id bigint, member_id bigint, store_id int, occurred_at timestamptz,
               day date, net_cents bigint)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, CASE WHEN p_since IS NULL THEN '-infinity'::timestamptz
                     ELSE p_since::timestamp AT TIME ZONE r.time_zone END AS occurred_from
    FROM loyalty_report_bounds(p_as_of, p_known_at) r
  ), refunded AS (
    SELECT f.ref_txn_id, sum(f.amount_cents) AS cents
    FROM ledger f, b
    WHERE f.kind = 'refund' AND f.occurred_at < b.occurred_before
      AND f.created_at <= b.known_at
      AND f.occurred_at >= b.occurred_from  -- a refund never happens before its purchase
    GROUP BY f.ref_txn_id
  )
  SELECT e.txn_id, coalesce(g.person_id, e.member_id), e.store_id, e.occurred_at,
         (e.occurred_at AT TIME ZONE b.time_zone)::date,
         e.amount_cents - coalesce(f.cents, 0)
  FROM b
  JOIN ledger e ON e.kind = 'earn' AND e.occurred_at < b.occurred_before
                   AND e.occurred_at >= b.occurred_from AND e.created_at <= b.known_at
  LEFT JOIN refunded f ON f.ref_txn_id = e.txn_id
  LEFT JOIN loyalty_report_merges(p_known_at) g ON g.member_id = e.member_id
  WHERE e.amount_cents > coalesce(f.cents, 0)
$$;
