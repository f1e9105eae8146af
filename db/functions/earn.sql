-- earn.sql - Earn: points for a paid purchase, a new lot, the spend toward tiers.
--
-- One formula (loyalty_earn_points) and one write (loyalty_earn_apply) serve both ways in:
-- loyalty_earn, one earn in its own transaction, which knows every case; and
-- loyalty_earn_batch, loyaltyd's group commit (server/earn_batch.c), many members' earns in
-- one transaction, which takes only the plain case.

-- The points of an earn of p_amount_cents at store p_store_id, at moment p_at, by a member of
-- tier p_tier (before the purchase) born on p_birthday; and how they were made, for the
-- receipt. Whole yuan x points per yuan x tier multiplier x birthday multiplier (in the
-- member's birthday month, in the program's time zone) x the campaigns' multiplier, rounded
-- down once, plus the campaigns' bonus; nothing under the minimum paid amount. numeric: exact,
-- and no overflow at the largest amounts and multipliers.
CREATE OR REPLACE FUNCTION loyalty_earn_points(p program, p_amount_cents bigint,
                                               p_tier smallint, p_birthday date,
                                               p_store_id int, p_at timestamptz,
                                               OUT points bigint, OUT explanation text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c record := loyalty_campaign_effect(p_store_id, p_tier, p_at);
  v_tier_permille int := loyalty_tier_permille(p_tier, p);
  v_birthday_month boolean := coalesce(extract(month FROM p_birthday)
                                       = extract(month FROM loyalty_local_date(p, p_at)), false);
BEGIN
  IF p_amount_cents < p.min_paid_cents THEN
    points := 0;
    explanation := '0 points: under the minimum paid amount';
    RETURN;
  END IF;
  points := div((p_amount_cents / 100)::numeric * p.points_per_yuan * v_tier_permille
                * CASE WHEN v_birthday_month THEN p.birthday_multiplier ELSE 1 END
                * c.permille, 1000000)::bigint + c.bonus;
  explanation := concat_ws(' ',
    format('%s points: %s yuan x %s per yuan', points, p_amount_cents / 100, p.points_per_yuan),
    CASE WHEN v_tier_permille <> 1000
         THEN format('x %s tier', trim_scale(v_tier_permille / 1000.0)) END,
    CASE WHEN v_birthday_month THEN format('x %s birthday month', p.birthday_multiplier) END,
    CASE WHEN c.permille <> 1000 THEN format('x %s campaign', trim_scale(c.permille / 1000.0)) END,
    CASE WHEN c.bonus > 0 THEN format('+ %s bonus', c.bonus) END,
    CASE WHEN c.names <> '' THEN format('(%s)', c.names) END);
END $$;

-- Whether an order of this store has earned already (orders are unique per store).
CREATE OR REPLACE FUNCTION loyalty_order_earned(p_store_id int, p_order_id text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM ledger
                 WHERE store_id = p_store_id AND order_id = p_order_id AND kind = 'earn')
$$;

-- Makes one earn of p_member (locked, as it was before), whose request is new and whose
-- order has not earned: the ledger row (its reason is the explanation), the lot, the member's
-- balance, spend and tier, the request. Returns the answer and the explanation.
CREATE OR REPLACE FUNCTION loyalty_earn_apply(p program, p_member members, p_store_id int,
                                              p_store_code text, p_principal text,
                                              p_request_id text, p_hash bytea,
                                              p_order_id text, p_amount_cents bigint,
                                              OUT result points_result, OUT explanation text)
LANGUAGE plpgsql AS $$
DECLARE
  e record := loyalty_earn_points(p, p_amount_cents, p_member.tier, p_member.birthday,
                                  p_store_id, now());
  v_row ledger;
BEGIN
  PERFORM set_config('loyalty.tier_reason', 'purchase', true);
  v_row := loyalty_move(p_member, loyalty_ledger_row(
    'earn', e.points, p_member.balance + e.points,
    loyalty_tier_after(p_member, p_amount_cents, p), p_principal, p_request_id,
    p_store_id => p_store_id, p_amount_cents => p_amount_cents, p_order_id => p_order_id,
    p_reason => e.explanation), p_amount_cents);
  PERFORM loyalty_add_lot(v_row, loyalty_lot_expiry(p, loyalty_local_date(p, now())));
  result := loyalty_finish_movement(p_store_code, p_request_id, 'Earn', p_hash, p_member,
                                    v_row);
  explanation := e.explanation;
END $$;

-- Earn, alone in its transaction. A replay answers the original with its explanation; an
-- order this store has earned before is LY409; an earn names a store (LY400).
CREATE OR REPLACE FUNCTION loyalty_earn(p_principal text, p_store_code text,
                                        p_request_id text, p_hash bytea, p_member_id bigint,
                                        p_order_id text, p_amount_cents bigint)
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'Earn', p_hash, p_member_id);
  v_program program;
  r record;
BEGIN
  IF w.replayed THEN
    RETURN QUERY SELECT p.*, l.reason FROM loyalty_replay(w.earlier) p
                 JOIN ledger l ON l.txn_id = p.txn_id;
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
  r := loyalty_earn_apply(v_program, w.member, w.store_id, p_store_code, p_principal,
                          p_request_id, p_hash, p_order_id, p_amount_cents);
  RETURN QUERY SELECT (r.result).*, r.explanation;
END $$;

-- Earns of distinct members in one transaction: one round trip and one commit for many.
-- Only the plain case: every member exists once and is open, every store exists, no request
-- is a retry and no order has earned before. Otherwise it raises LY300 before writing
-- anything (a race it could not see, such as a concurrent copy of a request, fails the whole
-- batch on a unique index), and loyaltyd makes each earn alone through loyalty_earn.
-- Returns one row per earn, in order.
CREATE OR REPLACE FUNCTION loyalty_earn_batch(p_principal text[], p_store_code text[],
                                              p_request_id text[], p_hash bytea[],
                                              p_member_id bigint[], p_order_id text[],
                                              p_amount_cents bigint[])
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_program program;
  v_member members;
  v_store_id int[];
  v_locked bigint;
  r record;
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
       OR loyalty_order_earned(v_store_id[i], p_order_id[i]) THEN
      RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
    END IF;
  END LOOP;
  FOR i IN 1 .. cardinality(p_member_id) LOOP
    SELECT * INTO STRICT v_member FROM members m WHERE m.member_id = p_member_id[i];
    r := loyalty_earn_apply(v_program, v_member, v_store_id[i], p_store_code[i],
                            p_principal[i], p_request_id[i], p_hash[i], p_order_id[i],
                            p_amount_cents[i]);
    RETURN QUERY SELECT (r.result).*, r.explanation;
  END LOOP;
END $$;
