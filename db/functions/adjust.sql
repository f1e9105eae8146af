-- adjust.sql - AdjustPoints: HQ's correction (a mistake, goodwill), with a reason, idempotent
-- like every movement. Positive points are a new lot (expiring as an earn's would); negative
-- ones come out of the lots expiring first, and may make the balance negative.
CREATE OR REPLACE FUNCTION loyalty_adjust(p_principal text, p_store_code text,
                                          p_request_id text, p_hash bytea, p_member_id bigint,
                                          p_points bigint, p_reason text)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'AdjustPoints', p_hash,
                                  p_member_id);
  v_member members := w.member;
  v_program program;
  v_row ledger;
BEGIN
  IF w.replayed THEN
    RETURN loyalty_replay(w.earlier);
  END IF;
  SELECT * INTO STRICT v_program FROM program;
  v_row := loyalty_move(v_member, loyalty_ledger_row(
    'adjustment', p_points, v_member.balance + p_points, v_member.tier, p_principal,
    p_request_id, p_store_id => w.store_id, p_reason => p_reason), 0);
  IF p_points > 0 THEN
    PERFORM loyalty_add_lot(v_row, loyalty_lot_expiry(v_program,
                                                      loyalty_local_date(v_program, now())));
  ELSE
    PERFORM loyalty_take_from_lots(p_member_id,
                                   greatest(v_member.balance, 0) - greatest(v_row.balance_after, 0),
                                   NULL, NULL);
  END IF;
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'AdjustPoints', p_hash, v_member,
                                 v_row);
END $$;
