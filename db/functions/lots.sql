-- lots.sql - points are held in lots, each with its expiry date.
--
-- Invariant: the lots of a member hold greatest(balance, 0) points in all. Points first pay
-- off a negative balance; only what is left can be spent or expire. Points leave the lots
-- expiring first.

-- The lot of p_row's points (an earn, a positive adjustment), expiring on p_expires_on:
-- what is left of them after paying off a negative balance. Nothing for 0 points.
CREATE OR REPLACE FUNCTION loyalty_add_lot(p_row ledger, p_expires_on date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_row.points > 0 THEN
    INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
    VALUES (p_row.member_id, p_row.txn_id, p_row.points,
            least(p_row.points, greatest(p_row.balance_after, 0)), p_expires_on);
  END IF;
END $$;

-- Takes up to p_points out of the member's lots, p_first_lot first (when given), then the
-- lots expiring first. With p_redeem_txn_id, records what came from which lot.
-- Returns how many points it could take.
CREATE OR REPLACE FUNCTION loyalty_take_from_lots(p_member_id bigint, p_points bigint,
                                                  p_first_lot bigint, p_redeem_txn_id bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_lot record;
  v_take bigint;
  v_left bigint := p_points;
BEGIN
  FOR v_lot IN
    SELECT lot_id, remaining FROM lots
    WHERE member_id = p_member_id AND remaining > 0
    ORDER BY lot_id IS DISTINCT FROM p_first_lot, expires_on, lot_id
  LOOP
    EXIT WHEN v_left <= 0;
    v_take := least(v_lot.remaining, v_left);
    UPDATE lots SET remaining = remaining - v_take WHERE lot_id = v_lot.lot_id;
    IF p_redeem_txn_id IS NOT NULL THEN
      INSERT INTO redemption_lots (redeem_txn_id, lot_id, points)
      VALUES (p_redeem_txn_id, v_lot.lot_id, v_take);
    END IF;
    v_left := v_left - v_take;
  END LOOP;
  RETURN p_points - v_left;
END $$;
