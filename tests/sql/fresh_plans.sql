-- fresh_plans.sql - on a fresh database, the balance query is planned without JIT.
--
-- PostgreSQL never analyzes the one-row program table by itself (autovacuum waits for 50
-- changed rows), and a never-analyzed table is planned as if it had thousands of rows: once
-- lots is large, the balance query's estimated cost passed jit_above_cost and every
-- GetBalance was JIT-compiled (about 50 times slower). loyaltyd analyzes the one-row tables
-- whenever it brings the database code up to date (server/migrate.c).

-- Plenty of lots, as a brand's database has after some months; lots itself analyzed, as
-- autovacuum does for a table that grew.
INSERT INTO members (member_id, phone) SELECT g, '139' || lpad(g::text, 8, '0')
  FROM generate_series(1, 300) g;
INSERT INTO ledger (member_id, kind, points, principal, request_id, balance_after, tier_after,
                    prev_hash, row_hash, occurred_at)
  VALUES (1, 'adjustment', 1, 'test', 'r1', 1, 0, '', '', now());
INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
  SELECT 1 + g % 300, 1, 10, 10, current_date + g % 400 FROM generate_series(1, 300000) g;
ANALYZE lots, members;

-- Whether a query, prepared with a parameter as loyaltyd prepares it and run with its generic
-- plan (what a prepared statement settles on after five runs), used JIT.
CREATE FUNCTION pg_temp.used_jit(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'PREPARE q(bigint) AS ' || q;
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q(7)' INTO plan;
  DEALLOCATE q;
  RETURN plan -> 0 -> 'JIT' IS NOT NULL;
END $$;

SET jit = on;
SET plan_cache_mode = force_generic_plan;
-- The shape of GetBalance's query (server/points.c, stmt_balance) and of
-- ListExpiringPoints's (server/expiry.c, stmt_expiring).
SELECT pg_temp.used_jit($q$
  SELECT m.balance, m.tier, e.expires_on, e.points
  FROM members m CROSS JOIN program p
  CROSS JOIN loyalty_next_tier(m.tier, loyalty_policy_spend(m, p, now()), p) n
  LEFT JOIN LATERAL (
    SELECT l.expires_on, sum(l.remaining) AS points FROM lots l
    WHERE l.member_id = m.member_id AND l.remaining > 0
      AND l.expires_on < (now() AT TIME ZONE p.time_zone)::date + 90
    GROUP BY l.expires_on) e ON true
  WHERE m.member_id = $1 ORDER BY e.expires_on
$q$) AS balance_used_jit;
SELECT pg_temp.used_jit($q$
  SELECT m.member_id, sum(l.remaining), min(l.expires_on)
  FROM lots l JOIN members m USING (member_id) CROSS JOIN program p
  WHERE l.remaining > 0 AND m.member_id > $1
    AND l.expires_on < (now() AT TIME ZONE p.time_zone)::date + 30
  GROUP BY m.member_id ORDER BY m.member_id LIMIT 101
$q$) AS expiring_used_jit;
