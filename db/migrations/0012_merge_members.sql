-- 0012_merge_members.sql - HQ merges two records of the same person. Everything of value
-- moves to the kept member: balance (a ledger row on each side), lots with their expiry,
-- net spend, identities, the phone if the kept member has none; the tier is recomputed.
-- The merged member is closed: further calls on it are LY412 naming the kept member. Its
-- ledger rows stay where they are (the ledger is append-only); refunds on the kept member
-- find the merged member's purchases, and its history shows them.
CREATE FUNCTION loyalty_merge_members(p_principal text, p_store_code text, p_request_id text,
                                      p_hash bytea, p_keep bigint, p_merge bigint)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_keep members;
  v_merge members;
  v_program program;
  v_balance bigint;
  v_spend bigint;
  v_tier smallint;
  v_lots bigint;
  v_txn_id bigint;
  v_hash bytea;
  v_out_txn bigint;
  v_out_hash bytea;
  v_request requests;
BEGIN
  IF p_keep = p_merge THEN
    RAISE 'a member cannot be merged into itself' USING ERRCODE = 'LY400';
  END IF;
  -- Both rows locked in member_id order, as batches do: no deadlock with concurrent earns.
  PERFORM 1 FROM members WHERE member_id IN (p_keep, p_merge) ORDER BY member_id FOR UPDATE;
  v_request := loyalty_find_request(p_store_code, p_request_id, 'MergeMembers', p_hash);
  IF v_request.request_id IS NOT NULL THEN  -- a retry, answered although merge is now closed
    RETURN loyalty_replay(v_request);
  END IF;
  v_keep := loyalty_lock_member(p_keep);  -- held already: these check they exist and are open
  v_merge := loyalty_lock_member(p_merge);
  SELECT * INTO STRICT v_program FROM program;
  v_balance := v_keep.balance + v_merge.balance;
  v_spend := v_keep.lifetime_spend_cents + v_merge.lifetime_spend_cents;
  v_tier := loyalty_tier_for(v_spend, v_keep.first_purchase_at IS NOT NULL
                                      OR v_merge.first_purchase_at IS NOT NULL, v_program);
  PERFORM set_config('loyalty.tier_reason', 'merge', true);

  SELECT * INTO v_out_txn, v_out_hash
  FROM loyalty_append_ledger(p_merge, 'merge_out', -v_merge.balance,
                             -v_merge.lifetime_spend_cents, NULL, p_principal, p_request_id, '',
                             'merged into member ' || p_keep, NULL, 0, v_merge.tier,
                             v_merge.ledger_head);
  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_keep, 'merge_in', v_merge.balance, v_merge.lifetime_spend_cents,
                             NULL, p_principal, p_request_id, '', 'merged from member ' || p_merge,
                             v_out_txn, v_balance, v_tier, v_keep.ledger_head);

  UPDATE lots SET member_id = p_keep WHERE member_id = p_merge;
  -- Lots must hold max(balance, 0): a negative balance on either side eats into them.
  SELECT coalesce(sum(remaining), 0) INTO v_lots FROM lots WHERE member_id = p_keep;
  PERFORM loyalty_take_from_lots(p_keep, v_lots - greatest(v_balance, 0), NULL, NULL);
  UPDATE identities SET member_id = p_keep WHERE member_id = p_merge;

  UPDATE members SET balance = 0, lifetime_spend_cents = 0, merged_into = p_keep,
                     ledger_head = v_out_hash,
                     phone = CASE WHEN v_keep.phone IS NULL THEN NULL ELSE phone END
  WHERE member_id = p_merge;
  UPDATE members SET balance = v_balance, lifetime_spend_cents = v_spend, tier = v_tier,
                     phone = coalesce(phone, v_merge.phone), ledger_head = v_hash,
                     first_purchase_at = least(first_purchase_at, v_merge.first_purchase_at)
  WHERE member_id = p_keep;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'MergeMembers', p_hash, p_keep,
                                 v_txn_id, v_tier <> v_keep.tier);
  PERFORM loyalty_audit(p_principal, 'merge_members', p_merge::text,
                        format('into %s: %s points, %s cents of spend', p_keep, v_merge.balance,
                               v_merge.lifetime_spend_cents));
  RETURN (v_txn_id, v_merge.balance, v_balance, v_tier, v_tier <> v_keep.tier, false);
END $$;

-- A merge moves identities to the kept member.
GRANT UPDATE ON identities TO loyalty_server;
