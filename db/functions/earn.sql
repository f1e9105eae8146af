-- earn.sql - Earn: points for a paid purchase, a new lot, the spend toward tiers.
--
-- One formula (loyalty_earn_points) and one write (loyalty_earn_write) serve both ways in:
-- loyalty_earn, one earn in its own transaction, which knows every case; and
-- loyalty_earn_batch, loyaltyd's group commit (server/group_commit.c), many members' earns in
-- one transaction, which takes only the plain case.
--
-- Business time (business_time.sql): an earn may say when the sale happened (occurred_at).
-- The birthday month, the campaigns, the program's rules and the lot's expiry are those of
-- that moment; the tier multiplier is the member's tier when the earn is recorded.

-- The points of an earn of p_amount_cents at store p_store_id, at moment p_at, by a member of
-- tier p_tier (before the purchase) born on p_birthday; and how they were made, for the
-- receipt. Whole yuan x points per yuan x tier multiplier x birthday multiplier (in the
-- member's birthday month, in the program's time zone) x the campaigns' multiplier, rounded
-- down once, plus the campaigns' bonus; nothing under the minimum paid amount. Also what the
-- campaigns added (campaign_points: points minus the same formula with no campaign, 0 when
-- none was in force) and which were in force (campaign_ids; none under the minimum paid
-- amount, where they add nothing). numeric: exact,
-- and no overflow at the largest amounts and multipliers. One row. (An SQL function returning
-- a table: the planner inlines it into loyalty_earn_write's one statement, planned once for
-- all its rows.)
CREATE OR REPLACE FUNCTION loyalty_earn_points(p program, p_amount_cents bigint,
                                               p_tier smallint, p_birthday date,
                                               p_store_id int, p_at timestamptz)
RETURNS TABLE (points bigint, explanation text, campaign_points bigint, campaign_ids int[])
LANGUAGE sql STABLE AS $$
  SELECT f.points,
         CASE WHEN p_amount_cents < p.min_paid_cents
              THEN '0 points: under the minimum paid amount'
              ELSE concat_ws(' ',
                format('%s points: %s yuan x %s per yuan', f.points, p_amount_cents / 100,
                       p.points_per_yuan),
                CASE WHEN k.tier_permille <> 1000
                     THEN format('x %s tier', trim_scale(k.tier_permille / 1000.0)) END,
                CASE WHEN k.birthday_month
                     THEN format('x %s birthday month', p.birthday_multiplier) END,
                CASE WHEN c.permille <> 1000
                     THEN format('x %s campaign', trim_scale(c.permille / 1000.0)) END,
                CASE WHEN c.bonus > 0 THEN format('+ %s bonus', c.bonus) END,
                CASE WHEN c.names <> '' THEN format('(%s)', c.names) END)
         END,
         f.points - f.base,
         CASE WHEN p_amount_cents < p.min_paid_cents THEN '{}' ELSE c.ids END
  FROM loyalty_campaign_effect(p_store_id, p_tier, p_at) c,
       LATERAL (SELECT loyalty_tier_permille(p_tier, p) AS tier_permille,
                       coalesce(extract(month FROM p_birthday)
                                = extract(month FROM loyalty_local_date(p, p_at)), false)
                         AS birthday_month) k,
       LATERAL (SELECT (p_amount_cents / 100)::numeric * p.points_per_yuan * k.tier_permille
                         * CASE WHEN k.birthday_month THEN p.birthday_multiplier ELSE 1 END
                         AS before_campaign) u,
       LATERAL (SELECT CASE WHEN p_amount_cents < p.min_paid_cents THEN 0
                       ELSE div(u.before_campaign * c.permille, 1000000)::bigint + c.bonus
                       END AS points,
                       CASE WHEN p_amount_cents < p.min_paid_cents THEN 0
                       ELSE div(u.before_campaign, 1000)::bigint END AS base) f
$$;

-- Whether an order of this store has earned already (orders are unique per store).
-- (PL/pgSQL: its plan is kept for the session, where an SQL function called from PL/pgSQL
-- is planned again on every call.)
CREATE OR REPLACE FUNCTION loyalty_order_earned(p_store_id int, p_order_id text)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM ledger
                 WHERE order_id = p_order_id AND store_id = p_store_id AND kind = 'earn');
END $$;

-- Makes earns of distinct members, each locked by the caller, whose requests are new and
-- whose orders have not earned, in one statement: per earn the ledger row (chained, its
-- reason the explanation, with its campaign points and campaigns), the lot, the member's
-- balance, spend and tier, the request.
-- p is the program now; p_occurred_at (checked by the caller; NULL, or a NULL element: now)
-- when each sale happened, whose rules the points and the lot follow. At a store whose
-- channel had pending days then (pending.sql) the points are pending instead: the row's
-- pending_points, no lot, no spend or tier change until the release, and a pending_earns
-- row saying when. Returns one row per earn, in order. The one earn write: loyalty_earn
-- makes one earn with it, loyalty_earn_batch many.
CREATE OR REPLACE FUNCTION loyalty_earn_write(p program, p_principal text[],
                                              p_store_code text[], p_store_id int[],
                                              p_request_id text[], p_hash bytea[],
                                              p_member_id bigint[], p_order_id text[],
                                              p_amount_cents bigint[],
                                              p_occurred_at timestamptz[] DEFAULT NULL)
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text,
               pending_points bigint, release_on date)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_changed_at timestamptz := loyalty_program_changed_at();
BEGIN
  PERFORM set_config('loyalty.tier_reason', 'purchase', true);
  RETURN QUERY
  WITH input AS (
    SELECT * FROM unnest(p_principal, p_store_code, p_store_id, p_request_id, p_hash,
                         p_member_id, p_order_id, p_amount_cents, p_occurred_at)
      WITH ORDINALITY AS i(principal, store_code, store_id, request_id, hash, member_id,
                           order_id, amount_cents, occurred_at, n)
  ), dated AS MATERIALIZED (
    -- The rules of the sale's moment: today's unless the program changed after it (once
    -- per earn here, not once per use of a rule in the formula).
    SELECT i.*, coalesce(i.occurred_at, now()) AS at,
           CASE WHEN coalesce(i.occurred_at, now()) >= v_changed_at THEN p
                ELSE loyalty_program_at(i.occurred_at) END AS rules
    FROM input i
  ), earned AS (
    SELECT d.*, m AS member, e.points, e.explanation, e.campaign_points, e.campaign_ids,
           loyalty_pending_release_on(d.rules, s.channel, d.at) AS release_on,
           loyalty_tier_after(m, d.amount_cents, p, d.at) AS new_tier
    FROM dated d JOIN members m USING (member_id) JOIN stores s USING (store_id)
    CROSS JOIN LATERAL loyalty_earn_points(d.rules, d.amount_cents, m.tier, m.birthday,
                                           d.store_id, d.at) e
  ), chained AS MATERIALIZED (
    SELECT e.n, e.store_code, e.hash, e.member, e.explanation, e.at, e.rules, e.release_on,
           CASE WHEN e.release_on IS NULL THEN e.amount_cents ELSE 0 END AS spend_cents,
           loyalty_chain_row(e.member, CASE WHEN e.release_on IS NULL
             THEN loyalty_ledger_row(
               'earn', e.points, (e.member).balance + e.points, e.new_tier, e.principal,
               e.request_id, p_store_id => e.store_id, p_amount_cents => e.amount_cents,
               p_order_id => e.order_id, p_reason => e.explanation,
               p_occurred_at => e.occurred_at, p_campaign_points => e.campaign_points,
               p_campaign_ids => e.campaign_ids)
             ELSE loyalty_ledger_row(  -- pending: neither the balance nor the tier moves yet
               'earn', 0, (e.member).balance, (e.member).tier, e.principal,
               e.request_id, p_store_id => e.store_id, p_amount_cents => e.amount_cents,
               p_order_id => e.order_id,
               p_reason => format('pending until %s: %s', e.release_on, e.explanation),
               p_occurred_at => e.occurred_at, p_pending_points => e.points,
               p_campaign_points => e.campaign_points, p_campaign_ids => e.campaign_ids) END)
             AS r
    FROM earned e
  ), ledger_rows AS (
    INSERT INTO ledger SELECT (c.r).* FROM chained c ORDER BY c.n
  ), pending_rows AS (
    INSERT INTO pending_earns (txn_id, member_id, release_on)
    SELECT (c.r).txn_id, (c.r).member_id, c.release_on FROM chained c
    WHERE c.release_on IS NOT NULL
  ), lot_rows AS (
    INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
    SELECT (c.r).member_id, (c.r).txn_id, (c.r).points,
           least((c.r).points, greatest((c.r).balance_after, 0)),
           loyalty_lot_expiry(c.rules, loyalty_local_date(c.rules, c.at))
    FROM chained c WHERE (c.r).points > 0
  ), member_rows AS (
    UPDATE members m
    SET balance = (c.r).balance_after, tier = (c.r).tier_after, ledger_head = (c.r).row_hash,
        pending_points = m.pending_points + (c.r).pending_points,
        lifetime_spend_cents = m.lifetime_spend_cents + c.spend_cents,
        first_purchase_at = CASE WHEN c.release_on IS NULL
                                 THEN least(m.first_purchase_at, c.at)
                                 ELSE m.first_purchase_at END
    FROM chained c WHERE m.member_id = (c.r).member_id
  ), request_rows AS (
    INSERT INTO requests (scope, request_id, method, request_hash, member_id, txn_id,
                          tier_changed)
    SELECT c.store_code, (c.r).request_id, 'Earn', c.hash, (c.r).member_id, (c.r).txn_id,
           (c.r).tier_after <> (c.member).tier
    FROM chained c
  )
  SELECT (c.r).txn_id, (c.r).points, (c.r).balance_after, (c.r).tier_after,
         (c.r).tier_after <> (c.member).tier, false, (c.r).reason, (c.r).pending_points,
         c.release_on
  FROM chained c ORDER BY c.n;
END $$;

-- Earn, alone in its transaction. A replay answers the original with its explanation (and
-- pending points); an order this store has earned before is LY409; an earn names a store
-- (LY400); p_occurred_at (NULL: now) out of bounds is LY400 (business_time.sql).
CREATE OR REPLACE FUNCTION loyalty_earn(p_principal text, p_store_code text,
                                        p_request_id text, p_hash bytea, p_member_id bigint,
                                        p_order_id text, p_amount_cents bigint,
                                        p_occurred_at timestamptz DEFAULT NULL)
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text,
               pending_points bigint, release_on date)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'Earn', p_hash, p_member_id);
  v_program program;
BEGIN
  IF w.replayed THEN
    RETURN QUERY SELECT p.*, l.reason, l.pending_points, pe.release_on
                 FROM loyalty_replay(w.earlier) p JOIN ledger l ON l.txn_id = p.txn_id
                 LEFT JOIN pending_earns pe ON pe.txn_id = p.txn_id;
    RETURN;
  END IF;
  IF w.store_id IS NULL THEN
    RAISE 'an earn happens at a store: store_code is required' USING ERRCODE = 'LY400';
  END IF;
  IF loyalty_order_earned(w.store_id, p_order_id) THEN
    RAISE 'order already earned' USING ERRCODE = 'LY409',
      DETAIL = format('%s at %s', p_order_id, p_store_code);
  END IF;
  SELECT * INTO STRICT v_program FROM program;
  PERFORM loyalty_check_occurred_at(p_occurred_at, p_principal, v_program, p_member_id,
                                    p_store_code, format('earn of order %s', p_order_id));
  RETURN QUERY SELECT * FROM loyalty_earn_write(v_program, ARRAY[p_principal],
    ARRAY[p_store_code], ARRAY[w.store_id], ARRAY[p_request_id], ARRAY[p_hash],
    ARRAY[p_member_id], ARRAY[p_order_id], ARRAY[p_amount_cents], ARRAY[p_occurred_at]);
END $$;

-- Earns of distinct members in one transaction: one round trip and one commit for many.
-- Only the plain case: every member exists once and is open, every store exists, no request
-- is a retry, no order has earned before and every occurred_at (NULL: now) is within bounds
-- and needs no record (business_time.sql). Otherwise it raises LY300 before writing
-- anything (a race it could not see, such as a concurrent copy of a request, fails the whole
-- batch on a unique index), and loyaltyd makes each earn alone through loyalty_earn.
-- Returns one row per earn, in order.
CREATE OR REPLACE FUNCTION loyalty_earn_batch(p_principal text[], p_store_code text[],
                                              p_request_id text[], p_hash bytea[],
                                              p_member_id bigint[], p_order_id text[],
                                              p_amount_cents bigint[],
                                              p_occurred_at timestamptz[] DEFAULT NULL)
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text,
               pending_points bigint, release_on date)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_program program;
  v_store_id int[];
  v_locked bigint;
  i int;
BEGIN
  SELECT * INTO STRICT v_program FROM program;
  -- In member_id order, as every write of several members does, so that they never
  -- deadlock. Every member must be there, once.
  SELECT count(*) INTO v_locked FROM (
    SELECT 1 FROM members m WHERE m.member_id = ANY (p_member_id) AND m.merged_into IS NULL
    ORDER BY m.member_id FOR UPDATE
  ) locked;
  IF v_locked <> cardinality(p_member_id) THEN
    RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
  END IF;
  -- One index probe per earn (a set-wise join here gets a generic plan that scans).
  FOR i IN 1 .. cardinality(p_member_id) LOOP
    v_store_id[i] := (SELECT s.store_id FROM stores s WHERE s.store_code = p_store_code[i]);
    IF v_store_id[i] IS NULL
       OR EXISTS (SELECT 1 FROM requests q
                  WHERE q.scope = p_store_code[i] AND q.request_id = p_request_id[i])
       OR loyalty_order_earned(v_store_id[i], p_order_id[i])
       OR (p_occurred_at[i] IS NOT NULL
           AND (loyalty_occurred_at_problem(p_occurred_at[i], p_principal[i], v_program)
                  IS NOT NULL
                OR p_occurred_at[i] < now() - make_interval(days => v_program.max_backdate_days)))
    THEN
      RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
    END IF;
  END LOOP;
  RETURN QUERY SELECT * FROM loyalty_earn_write(v_program, p_principal, p_store_code,
                                                v_store_id, p_request_id, p_hash, p_member_id,
                                                p_order_id, p_amount_cents, p_occurred_at);
END $$;
