-- business_time.sql - when a movement happened (occurred_at), beside when it was recorded
-- (created_at).
--
-- Tills and platforms send sales late. Earn and Refund may say when they happened; the rules
-- follow that moment: the birthday month, the campaigns (campaigns.sql) and the program's
-- rules (loyalty_program_at, program.sql) in force then, the lot's expiry, the rolling tier
-- window (tiers.sql). The member's tier is the one it has when the movement is recorded:
-- tier changes are never retroactive.
--
-- Bounds, against the database's clock: at most 5 minutes ahead (a till's clock drifts);
-- at most the program's max_backdate_days back for a store key. An HQ key may date further
-- back: the admin audit log records it. A movement recorded more than an hour after it
-- happened is late (loyalty_late): ListTransactions marks it, `loyaltyctl audit list --late`
-- lists them (the index ledger_late, db/schema/0002_business_time.sql, has the same rule).
-- History imported from the old system (import.sql, request_id "import <run>") is not late:
-- it is all recorded after it happened, and would bury the late sales worth a look.

-- Whether a movement recorded at p_created_at that happened at p_occurred_at, by request
-- p_request_id, is late.
CREATE OR REPLACE FUNCTION loyalty_late(p_created_at timestamptz, p_occurred_at timestamptz,
                                        p_request_id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_created_at - p_occurred_at > interval '1 hour' AND p_request_id NOT LIKE 'import %'
$$;

-- Whether a principal is an HQ key's ("key_id:operator" of a key with no store).
CREATE OR REPLACE FUNCTION loyalty_principal_is_hq(p_principal text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM api_keys k
                 WHERE k.key_id = split_part(p_principal, ':', 1) AND k.store_id IS NULL)
$$;

-- What is wrong with p_at as the moment of a movement by p_principal, or NULL when it is
-- within the bounds (NULL, now, always is). Says the limit. An HQ key's date beyond
-- max_backdate_days is not wrong (loyalty_check_occurred_at records it).
CREATE OR REPLACE FUNCTION loyalty_occurred_at_problem(p_at timestamptz, p_principal text,
                                                       p program) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_at IS NULL THEN NULL
    WHEN p_at > now() + interval '5 minutes'
      THEN 'occurred_at is in the future (at most 5 minutes ahead of the server''s clock)'
    WHEN p_at < now() - make_interval(days => p.max_backdate_days)
         AND NOT loyalty_principal_is_hq(p_principal)
      THEN format('occurred_at is more than %s days ago (the program''s max_backdate_days; '
                  'HQ may date further back)', p.max_backdate_days)
  END
$$;

-- Checks p_at (NULL: now) as the moment of a movement (p_what, e.g. "earn of order X") of
-- p_member_id at p_store_code: LY400 saying the limit when it is out of bounds. An HQ key dating beyond max_backdate_days is recorded in the
-- admin audit log (action "backdate").
CREATE OR REPLACE FUNCTION loyalty_check_occurred_at(p_at timestamptz, p_principal text,
                                                     p program, p_member_id bigint,
                                                     p_store_code text, p_what text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_problem text := loyalty_occurred_at_problem(p_at, p_principal, p);
BEGIN
  IF v_problem IS NOT NULL THEN
    RAISE '%', v_problem USING ERRCODE = 'LY400';
  END IF;
  IF p_at < now() - make_interval(days => p.max_backdate_days) THEN
    PERFORM loyalty_audit(p_principal, 'backdate', p_member_id::text, p_store_code,
                          format('%s dated %s, %s days back (max_backdate_days %s)', p_what,
                                 to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                 extract(day FROM now() - p_at), p.max_backdate_days));
  END IF;
END $$;
