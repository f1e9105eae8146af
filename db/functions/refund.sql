-- refund.sql - Refund of part or all of an earn's amount: takes back points in proportion,
-- reduces the net spend and recomputes the tier (tiers.sql: a refund never raises it).
--
-- Proportion: what all refunds of an earn take back in total is floor(P x R / A) of its
-- points P, R being the amount they refunded in total and A the earn's amount; each refund
-- takes the difference, so three partial refunds equal one full refund exactly.
--
-- Business time (business_time.sql): a refund may say when the return happened
-- (occurred_at, within the same bounds as an earn's), never before its purchase. The rolling
-- tier window dates a refund by its purchase (tiers.sql).
--
-- An earn whose points are still pending (pending.sql): the refund takes them from the
-- pending points by the same rule and never touches the balance, the lots, the spend or the
-- tier, none of which the earn has moved yet; refunded in full, it is never released.

-- The earn a refund of p_member_id refers to: by p_earn_txn_id, or by p_order_id at the store
-- p_original_store_code names; with no store named, the acting store's (p_acting_store_id)
-- earn with that order id if there is one, else the member's only one. The member's earns
-- include those of members merged into it. LY404 if none; LY400 if two stores' earns match.
CREATE OR REPLACE FUNCTION loyalty_refunded_earn(p_member_id bigint, p_earn_txn_id bigint,
                                                 p_order_id text, p_original_store_code text,
                                                 p_acting_store_id int) RETURNS ledger
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_original_store_id int := loyalty_store_id(coalesce(p_original_store_code, ''));
  v_earn ledger;
BEGIN
  SELECT l.* INTO v_earn FROM ledger l
  WHERE l.kind = 'earn'
    AND l.member_id IN (SELECT p_member_id UNION ALL
                        SELECT m.member_id FROM members m WHERE m.merged_into = p_member_id)
    AND CASE WHEN p_earn_txn_id IS NOT NULL THEN l.txn_id = p_earn_txn_id
             ELSE l.order_id = p_order_id
                  AND (v_original_store_id IS NULL OR l.store_id = v_original_store_id) END
  ORDER BY l.store_id IS NOT DISTINCT FROM p_acting_store_id DESC
  LIMIT 1;
  IF NOT FOUND THEN
    RAISE 'original purchase not found' USING ERRCODE = 'LY404',
      DETAIL = coalesce(p_earn_txn_id::text, p_order_id);
  END IF;
  IF p_earn_txn_id IS NULL AND v_original_store_id IS NULL
     AND v_earn.store_id IS DISTINCT FROM p_acting_store_id
     AND EXISTS (SELECT 1 FROM ledger l
                 WHERE l.kind = 'earn' AND l.order_id = p_order_id AND l.txn_id <> v_earn.txn_id
                   AND l.member_id IN (SELECT p_member_id UNION ALL
                                       SELECT m.member_id FROM members m
                                       WHERE m.merged_into = p_member_id)) THEN
    RAISE 'order id is ambiguous: name original_store_code' USING ERRCODE = 'LY400',
      DETAIL = p_order_id;
  END IF;
  RETURN v_earn;
END $$;

-- The points a refund of p_amount_cents takes back from p_earn's points (pending or not),
-- its earlier refunds having refunded p_refunded cents and taken p_taken points: the
-- proportion rule above, floor(P x R / A) in all, less what was taken. div() on numeric is
-- exact integer division, and the product cannot overflow. Live refunds and imported ones
-- (import.sql) take by it.
CREATE OR REPLACE FUNCTION loyalty_refund_take(p_earn ledger, p_refunded bigint,
                                               p_taken bigint, p_amount_cents bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (div((p_earn.points + p_earn.pending_points)::numeric
              * (p_refunded + p_amount_cents), p_earn.amount_cents) - p_taken)::bigint
$$;

CREATE OR REPLACE FUNCTION loyalty_refund(p_principal text, p_store_code text,
                                          p_request_id text, p_hash bytea, p_member_id bigint,
                                          p_earn_txn_id bigint, p_order_id text,
                                          p_original_store_code text, p_amount_cents bigint,
                                          p_occurred_at timestamptz DEFAULT NULL)
RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'Refund', p_hash, p_member_id);
  v_member members := w.member;
  v_program program;
  v_earn ledger;
  v_refunded bigint;     -- by earlier refunds of this earn
  v_taken bigint;        -- by earlier refunds of this earn
  v_take bigint;         -- by this refund
  v_lot_id bigint;
  v_row ledger;
  v_at timestamptz;      -- when the return happened
BEGIN
  IF w.replayed THEN
    RETURN loyalty_replay(w.earlier);
  END IF;
  PERFORM set_config('loyalty.tier_reason', 'refund', true);
  v_earn := loyalty_refunded_earn(p_member_id, p_earn_txn_id, p_order_id, p_original_store_code,
                                  w.store_id);
  SELECT coalesce(sum(amount_cents), 0), coalesce(-sum(points + pending_points), 0)
  INTO v_refunded, v_taken
  FROM ledger WHERE ref_txn_id = v_earn.txn_id AND kind = 'refund';
  IF p_amount_cents > v_earn.amount_cents - v_refunded THEN
    RAISE 'refund exceeds the remaining amount' USING ERRCODE = 'LY412',
      DETAIL = format('remaining %s cents, requested %s',
                      v_earn.amount_cents - v_refunded, p_amount_cents);
  END IF;
  v_take := loyalty_refund_take(v_earn, v_refunded, v_taken, p_amount_cents);

  SELECT * INTO STRICT v_program FROM program;
  PERFORM loyalty_check_occurred_at(p_occurred_at, p_principal, v_program, p_member_id,
                                    p_store_code, format('refund of order %s', v_earn.order_id));
  -- Undated, it is now, or its purchase's moment if a till's clock put that (at most
  -- 5 minutes) ahead.
  v_at := coalesce(p_occurred_at, greatest(now(), v_earn.occurred_at));
  IF v_at < v_earn.occurred_at THEN
    RAISE 'a refund cannot happen before its purchase' USING ERRCODE = 'LY400',
      DETAIL = format('purchase at %s, refund at %s',
                      to_char(v_earn.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                      to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
  END IF;
  IF loyalty_earn_is_pending(v_earn.txn_id) THEN
    v_row := loyalty_move(v_member, loyalty_ledger_row(
      'refund', 0, v_member.balance, v_member.tier, p_principal, p_request_id,
      p_store_id => w.store_id, p_amount_cents => p_amount_cents, p_order_id => v_earn.order_id,
      p_ref_txn_id => v_earn.txn_id, p_occurred_at => v_at, p_pending_points => -v_take), 0);
    IF v_refunded + p_amount_cents = v_earn.amount_cents THEN
      PERFORM loyalty_settle_pending(v_earn.txn_id, 'refunded', v_row.txn_id);
    END IF;
    RETURN loyalty_finish_movement(p_store_code, p_request_id, 'Refund', p_hash, v_member, v_row);
  END IF;

  v_row := loyalty_move(v_member, loyalty_ledger_row(
    'refund', -v_take, v_member.balance - v_take,
    loyalty_tier_after(v_member, -p_amount_cents, v_program, v_earn.occurred_at), p_principal,
    p_request_id, p_store_id => w.store_id, p_amount_cents => p_amount_cents,
    p_order_id => v_earn.order_id, p_ref_txn_id => v_earn.txn_id, p_occurred_at => v_at),
    -p_amount_cents);
  -- The points come from the earn's own lot first; what was already spent makes the balance
  -- negative instead.
  SELECT lot_id INTO v_lot_id FROM lots
  WHERE member_id = p_member_id AND txn_id = v_earn.txn_id AND remaining > 0;
  PERFORM loyalty_take_from_lots(p_member_id,
                                 greatest(v_member.balance, 0) - greatest(v_row.balance_after, 0),
                                 v_lot_id, NULL);
  RETURN loyalty_finish_movement(p_store_code, p_request_id, 'Refund', p_hash, v_member, v_row);
END $$;
