-- merge.sql - HQ merges two records of the same person. Everything of value moves to the
-- kept member: balance and pending points (a ledger row on each side), pending earns (to be
-- released or refunded on the kept member), lots with their expiry, net spend,
-- identities, the phone if the kept member has none; the tier is recomputed. The merged
-- member is closed: further calls on it are LY412 naming the kept member. Its ledger rows
-- stay where they are (the ledger is append-only); refunds on the kept member find the
-- merged member's purchases, and its history shows them.
CREATE OR REPLACE FUNCTION loyalty_merge_members(p_principal text, p_store_code text,
                                                 p_request_id text, p_hash bytea,
                                                 p_keep bigint, p_merge bigint)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_keep members;
  v_merge members;
  v_program program;
  v_request requests;
  v_tier smallint;
  v_lots bigint;
  v_out ledger;
  v_in ledger;
BEGIN
  IF p_keep = p_merge THEN
    RAISE 'a member cannot be merged into itself' USING ERRCODE = 'LY400';
  END IF;
  -- Both rows locked in member_id order, as batches do: no deadlock with concurrent earns.
  -- (Not loyalty_begin_write: the retry of a merge is answered although the merged member
  -- is closed by then.)
  PERFORM 1 FROM members WHERE member_id IN (p_keep, p_merge) ORDER BY member_id FOR UPDATE;
  v_request := loyalty_find_request(p_store_code, p_request_id, 'MergeMembers', p_hash);
  IF v_request.request_id IS NOT NULL THEN
    RETURN loyalty_replay(v_request);
  END IF;
  v_keep := loyalty_lock_member(p_keep);  -- held already: these check they exist and are open
  v_merge := loyalty_lock_member(p_merge);
  SELECT * INTO STRICT v_program FROM program;
  v_tier := loyalty_tier_for(v_keep.lifetime_spend_cents + v_merge.lifetime_spend_cents,
                             v_keep.first_purchase_at IS NOT NULL
                             OR v_merge.first_purchase_at IS NOT NULL, v_program);
  PERFORM set_config('loyalty.tier_reason', 'merge', true);

  v_out := loyalty_move(v_merge, loyalty_ledger_row(
    'merge_out', -v_merge.balance, 0, v_merge.tier, p_principal, p_request_id,
    p_amount_cents => -v_merge.lifetime_spend_cents,
    p_reason => 'merged into member ' || p_keep, p_pending_points => -v_merge.pending_points),
    -v_merge.lifetime_spend_cents);
  v_in := loyalty_move(v_keep, loyalty_ledger_row(
    'merge_in', v_merge.balance, v_keep.balance + v_merge.balance, v_tier, p_principal,
    p_request_id, p_amount_cents => v_merge.lifetime_spend_cents,
    p_reason => 'merged from member ' || p_merge, p_ref_txn_id => v_out.txn_id,
    p_pending_points => v_merge.pending_points), v_merge.lifetime_spend_cents);

  UPDATE lots SET member_id = p_keep WHERE member_id = p_merge;
  -- Lots must hold max(balance, 0): a negative balance on either side eats into them.
  SELECT coalesce(sum(remaining), 0) INTO v_lots FROM lots WHERE member_id = p_keep;
  PERFORM loyalty_take_from_lots(p_keep, v_lots - greatest(v_in.balance_after, 0), NULL, NULL);
  UPDATE identities SET member_id = p_keep WHERE member_id = p_merge;
  UPDATE pending_earns SET member_id = p_keep WHERE member_id = p_merge;

  UPDATE members SET merged_into = p_keep,
                     phone = CASE WHEN v_keep.phone IS NULL THEN NULL ELSE phone END
  WHERE member_id = p_merge;
  UPDATE members SET phone = coalesce(phone, v_merge.phone),
                     first_purchase_at = least(first_purchase_at, v_merge.first_purchase_at)
  WHERE member_id = p_keep;
  PERFORM loyalty_audit(p_principal, 'merge_members', p_merge::text, p_store_code,
                        format('into %s: %s points, %s cents of spend', p_keep, v_merge.balance,
                               v_merge.lifetime_spend_cents));
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'MergeMembers', p_hash, v_keep,
                                 v_in);
END $$;
