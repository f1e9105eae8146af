-- pending.sql - pending points (积分待入账): online, points are credited only when the buyer
-- confirms receipt or the return window passes.
--
-- An earn at a store whose channel has pending days (program.pending_days[channel]) is
-- written by loyalty_earn_write (earn.sql) with its points pending: ledger row points 0,
-- pending_points P; no lot, no spend toward tiers, the tier unchanged; a pending_earns row
-- with its release date (the earn's local date + the channel's days). Then one of:
--   a refund before the release takes pending points by the usual proportion (refund.sql);
--     refunded in full, the earn is settled as 'refunded' and never released;
--   the release (loyalty_release): a 'release' ledger row (points P', pending_points -P',
--     ref_txn_id the earn) with P' what refunds left; its lot, expiring as the earn's would;
--     the spend (the amount less refunds) toward tiers, where the tier may rise; made by
--     Points.ConfirmOrder (loyalty_confirm_order) or by HQ's run for a date
--     (loyalty_release_pending), whichever comes first.
-- members.pending_points = sum(ledger.pending_points), moved by loyalty_move (ledger.sql).

-- The date an earn at moment p_at on a store of p_channel is released: its local date plus
-- the channel's pending days; NULL when the channel has none (credited at once).
CREATE OR REPLACE FUNCTION loyalty_pending_release_on(p program, p_channel smallint,
                                                      p_at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(p.pending_days[p_channel], 0) > 0
              THEN loyalty_local_date(p, p_at) + p.pending_days[p_channel] END
$$;

-- Whether the earn's points are still pending (its member locked by the caller).
CREATE OR REPLACE FUNCTION loyalty_earn_is_pending(p_earn_txn_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pending_earns WHERE txn_id = p_earn_txn_id AND state = 'pending')
$$;

-- Ends the pending state of an earn: 'released' by the release row p_txn_id, or 'refunded'
-- in full by the refund p_txn_id.
CREATE OR REPLACE FUNCTION loyalty_settle_pending(p_earn_txn_id bigint, p_state text,
                                                  p_txn_id bigint) RETURNS void
LANGUAGE sql AS $$
  UPDATE pending_earns SET state = p_state, settled_txn_id = p_txn_id
  WHERE txn_id = p_earn_txn_id AND state = 'pending'
$$;

-- Releases the pending earn p_earn of p_member (locked, as it is now): what refunds left of
-- its points go into the balance, as a lot expiring as the earn's would have (by the earn's
-- local date and the expiry policy of then); its amount less refunds counts toward tiers now
-- (a purchase: the tier may rise, never fall), dated by the earn's occurred_at. p_store_id:
-- the store confirming it, NULL for HQ's run. Returns the release row.
CREATE OR REPLACE FUNCTION loyalty_release(p_member members, p_earn ledger, p program,
                                           p_principal text, p_request_id text,
                                           p_store_id int) RETURNS ledger
LANGUAGE plpgsql AS $$
DECLARE
  v_refunded bigint;  -- amount refunded before the release
  v_taken bigint;     -- pending points those refunds took
  v_points bigint;
  v_spend bigint;
  v_rules program;
  v_row ledger;
BEGIN
  SELECT coalesce(sum(amount_cents), 0), coalesce(-sum(pending_points), 0)
  INTO v_refunded, v_taken
  FROM ledger WHERE ref_txn_id = p_earn.txn_id AND kind = 'refund';
  v_points := p_earn.pending_points - v_taken;
  v_spend := p_earn.amount_cents - v_refunded;
  PERFORM set_config('loyalty.tier_reason', 'release', true);
  v_row := loyalty_move(p_member, loyalty_ledger_row(
    'release', v_points, p_member.balance + v_points,
    loyalty_tier_after(p_member, v_spend, p, p_earn.occurred_at), p_principal, p_request_id,
    p_store_id => p_store_id, p_amount_cents => v_spend, p_order_id => p_earn.order_id,
    p_reason => format('released %s pending points of the purchase', v_points),
    p_ref_txn_id => p_earn.txn_id, p_pending_points => -v_points), v_spend,
    p_earn.occurred_at);
  v_rules := loyalty_program_at(p_earn.occurred_at);  -- the expiry policy of the earn's day
  PERFORM loyalty_add_lot(v_row, loyalty_lot_expiry(
    v_rules, loyalty_local_date(v_rules, p_earn.occurred_at)));
  PERFORM loyalty_settle_pending(p_earn.txn_id, 'released', v_row.txn_id);
  RETURN v_row;
END $$;

-- Points.ConfirmOrder: the buyer confirmed receipt (确认收货); the earn named as a refund
-- names it (loyalty_refunded_earn, refund.sql) is released now. Platforms often confirm
-- after the run released it: an earn released already, or never pending, answers 0 points
-- and no transaction (txn_id NULL), recorded like any request so that a retry replays it
-- (with the balance at the retry). An earn refunded in full is LY412.
CREATE OR REPLACE FUNCTION loyalty_confirm_order(p_principal text, p_store_code text,
                                                 p_request_id text, p_hash bytea,
                                                 p_member_id bigint, p_earn_txn_id bigint,
                                                 p_order_id text,
                                                 p_original_store_code text)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'ConfirmOrder', p_hash,
                                  p_member_id);
  v_member members := w.member;
  v_program program;
  v_earn ledger;
  v_row ledger;
BEGIN
  IF w.replayed AND (w.earlier).txn_id IS NULL THEN
    RETURN (NULL, 0, v_member.balance, v_member.tier, false, true)::points_result;
  ELSIF w.replayed THEN
    RETURN loyalty_replay(w.earlier);
  END IF;
  v_earn := loyalty_refunded_earn(p_member_id, p_earn_txn_id, p_order_id, p_original_store_code,
                                  w.store_id);
  IF (SELECT coalesce(sum(amount_cents), 0) FROM ledger
      WHERE ref_txn_id = v_earn.txn_id AND kind = 'refund') >= v_earn.amount_cents THEN
    RAISE 'order was refunded in full' USING ERRCODE = 'LY412',
      DETAIL = format('%s, transaction %s', v_earn.order_id, v_earn.txn_id);
  END IF;
  IF NOT loyalty_earn_is_pending(v_earn.txn_id) THEN
    PERFORM loyalty_record_request(p_store_code, p_request_id, 'ConfirmOrder', p_hash,
                                   p_member_id, NULL, false);
    RETURN (NULL, 0, v_member.balance, v_member.tier, false, false)::points_result;
  END IF;
  SELECT * INTO STRICT v_program FROM program;
  v_row := loyalty_release(v_member, v_earn, v_program, p_principal, p_request_id, w.store_id);
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'ConfirmOrder', p_hash, v_member,
                                 v_row);
END $$;

-- Admin.ReleasePending: releases the pending earns due by p_as_of (release_on <= p_as_of) of
-- up to p_limit members after p_after_member (by member_id), each member under its row
-- lock, in member_id order: a run repeated, or two runs at once, release each earn once (the
-- second finds them settled). Returns where it stopped and what it did; loyaltyd calls it
-- until members_done is 0, one transaction per call.
CREATE OR REPLACE FUNCTION loyalty_release_pending(p_principal text, p_as_of date,
                                                   p_after_member bigint, p_limit int,
                                                   OUT last_member bigint, OUT members_done int,
                                                   OUT members_released int,
                                                   OUT earns_released int,
                                                   OUT points_released bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_program program;
  v_member_id bigint;
  v_member members;
  v_earn ledger;
  v_row ledger;
  v_released boolean;
BEGIN
  last_member := p_after_member;
  members_done := 0;
  members_released := 0;
  earns_released := 0;
  points_released := 0;
  SELECT * INTO STRICT v_program FROM program;
  FOR v_member_id IN
    SELECT DISTINCT member_id FROM pending_earns
    WHERE state = 'pending' AND release_on <= p_as_of AND member_id > p_after_member
    ORDER BY member_id LIMIT p_limit
  LOOP
    -- Not loyalty_lock_member: a member merged meanwhile is skipped (its earns moved).
    PERFORM 1 FROM members WHERE member_id = v_member_id FOR UPDATE;
    v_released := false;
    FOR v_earn IN  -- read after the lock: a concurrent run's releases are settled by now
      SELECT l.* FROM pending_earns pe JOIN ledger l ON l.txn_id = pe.txn_id
      WHERE pe.member_id = v_member_id AND pe.state = 'pending' AND pe.release_on <= p_as_of
      ORDER BY pe.txn_id
    LOOP
      SELECT * INTO STRICT v_member FROM members WHERE member_id = v_member_id;
      v_row := loyalty_release(v_member, v_earn, v_program, p_principal,
                               'release-' || p_as_of, NULL);
      earns_released := earns_released + 1;
      points_released := points_released + v_row.points;
      v_released := true;
    END LOOP;
    IF v_released THEN
      members_released := members_released + 1;
    END IF;
    members_done := members_done + 1;
    last_member := v_member_id;
  END LOOP;
END $$;
