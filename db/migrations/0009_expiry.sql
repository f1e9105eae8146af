-- 0009_expiry.sql - points expire: every lot whose last day is before the run's date is
-- taken out of its member's balance by a ledger row of kind "expiry".

-- Expires the lots, last day before p_as_of, of up to p_limit members after p_after_member
-- (by member_id), each member under its row lock: a run repeated, or two runs at once,
-- expire each lot once. A member with a negative balance has no points left in lots, so
-- nothing to expire. Returns where it stopped and what it did; loyaltyd calls it until
-- members_done is 0, one transaction per call.
CREATE FUNCTION loyalty_expire(p_principal text, p_as_of date, p_after_member bigint,
                               p_limit int, OUT last_member bigint, OUT members_done int,
                               OUT lots_expired int, OUT points_expired bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_member members;
  v_points bigint;
  v_lots int;
  v_txn_id bigint;
  v_hash bytea;
  v_member_id bigint;
BEGIN
  last_member := p_after_member;
  members_done := 0;
  lots_expired := 0;
  points_expired := 0;
  FOR v_member_id IN
    SELECT DISTINCT member_id FROM lots
    WHERE remaining > 0 AND expires_on < p_as_of AND member_id > p_after_member
    ORDER BY member_id LIMIT p_limit
  LOOP
    v_member := loyalty_lock_member(v_member_id);
    SELECT coalesce(sum(remaining), 0), count(*) INTO v_points, v_lots FROM lots
    WHERE member_id = v_member_id AND remaining > 0 AND expires_on < p_as_of;
    IF v_points > 0 THEN  -- 0 when a concurrent run got here first
      SELECT * INTO v_txn_id, v_hash
      FROM loyalty_append_ledger(v_member_id, 'expiry', -v_points, 0, NULL, p_principal,
                                 'expiry-' || p_as_of, '', 'expired before ' || p_as_of, NULL,
                                 v_member.balance - v_points, v_member.tier,
                                 v_member.ledger_head);
      UPDATE lots SET remaining = 0
      WHERE member_id = v_member_id AND remaining > 0 AND expires_on < p_as_of;
      UPDATE members SET balance = balance - v_points, ledger_head = v_hash
      WHERE member_id = v_member_id;
      lots_expired := lots_expired + v_lots;
      points_expired := points_expired + v_points;
    END IF;
    members_done := members_done + 1;
    last_member := v_member_id;
  END LOOP;
END $$;

CREATE INDEX lots_expiring ON lots (expires_on, member_id) WHERE remaining > 0;
