-- cancel.sql - CancelRedemption: gives a redemption's points back to the lots they came from.
CREATE OR REPLACE FUNCTION loyalty_cancel_redemption(p_principal text, p_store_code text,
                                                     p_request_id text, p_hash bytea,
                                                     p_member_id bigint, p_redeem_txn_id bigint)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'CancelRedemption', p_hash,
                                  p_member_id);
  v_member members := w.member;
  v_points bigint;       -- the redemption's, positive
  v_cancelled_by bigint;
  v_to_lots bigint;
  v_give bigint;
  v_part record;
  v_row ledger;
BEGIN
  IF w.replayed THEN
    RETURN loyalty_replay(w.earlier);
  END IF;
  SELECT -points INTO v_points FROM ledger
  WHERE txn_id = p_redeem_txn_id AND member_id = p_member_id AND kind = 'redeem';
  IF NOT FOUND THEN
    RAISE 'redemption not found' USING ERRCODE = 'LY404', DETAIL = p_redeem_txn_id::text;
  END IF;
  SELECT txn_id INTO v_cancelled_by FROM ledger
  WHERE ref_txn_id = p_redeem_txn_id AND kind = 'cancel_redemption';
  IF FOUND THEN
    RAISE 'redemption already cancelled' USING ERRCODE = 'LY412',
      DETAIL = format('cancelled by transaction %s', v_cancelled_by);
  END IF;

  v_row := loyalty_move(v_member, loyalty_ledger_row(
    'cancel_redemption', v_points, v_member.balance + v_points, v_member.tier, p_principal,
    p_request_id, p_store_id => w.store_id, p_ref_txn_id => p_redeem_txn_id), 0);
  -- A negative balance is paid off first; the rest goes back to the lots it came from,
  -- latest expiry first, each with its original expiry date.
  v_to_lots := greatest(v_row.balance_after, 0) - greatest(v_member.balance, 0);
  FOR v_part IN
    SELECT rl.lot_id, rl.points FROM redemption_lots rl JOIN lots l USING (lot_id)
    WHERE rl.redeem_txn_id = p_redeem_txn_id
    ORDER BY l.expires_on DESC, l.lot_id DESC
  LOOP
    EXIT WHEN v_to_lots = 0;
    v_give := least(v_part.points, v_to_lots);
    UPDATE lots SET remaining = remaining + v_give WHERE lot_id = v_part.lot_id;
    v_to_lots := v_to_lots - v_give;
  END LOOP;
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'CancelRedemption', p_hash,
                                 v_member, v_row);
END $$;
