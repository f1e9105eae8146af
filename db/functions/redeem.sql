-- redeem.sql - Redeem: spends points from the lots expiring first; never overdraws.
CREATE OR REPLACE FUNCTION loyalty_redeem(p_principal text, p_store_code text,
                                          p_request_id text, p_hash bytea, p_member_id bigint,
                                          p_points bigint, p_order_id text, p_reason text)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'Redeem', p_hash, p_member_id);
  v_member members := w.member;
  v_row ledger;
BEGIN
  IF w.replayed THEN
    RETURN loyalty_replay(w.earlier);
  END IF;
  IF v_member.balance < p_points THEN
    RAISE 'insufficient points' USING ERRCODE = 'LY412',
      DETAIL = format('balance %s, requested %s', v_member.balance, p_points);
  END IF;
  v_row := loyalty_move(v_member, loyalty_ledger_row(
    'redeem', -p_points, v_member.balance - p_points, v_member.tier, p_principal, p_request_id,
    p_store_id => w.store_id, p_order_id => p_order_id, p_reason => p_reason), 0);
  IF loyalty_take_from_lots(p_member_id, p_points, NULL, v_row.txn_id) <> p_points THEN
    RAISE 'lots do not cover the balance' USING DETAIL = p_member_id::text;
  END IF;
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'Redeem', p_hash, v_member, v_row);
END $$;
