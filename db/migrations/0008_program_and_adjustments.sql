-- 0008_program_and_adjustments.sql - HQ edits the program's rules (every change recorded:
-- who, when, old, new) and corrects balances with adjustments.

-- Below this paid amount a purchase earns no points (it still counts toward tiers).
ALTER TABLE program ADD COLUMN min_paid_cents bigint NOT NULL DEFAULT 0
  CHECK (min_paid_cents >= 0);
-- Stricter than 0001: the multipliers are permille from 0 to 10x, points per yuan up to 100.
ALTER TABLE program ADD CHECK (points_per_yuan <= 100 AND birthday_multiplier <= 10
  AND greatest(ordinary_permille, senior_permille, vip_permille, supreme_permille) <= 10000);

-- The earn formula of 0002, now with the minimum paid amount.
CREATE OR REPLACE FUNCTION loyalty_earn_points(p_amount_cents bigint, p_tier smallint,
                                               p_birthday date, p_today date, p program)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_amount_cents < p.min_paid_cents THEN 0
         ELSE (p_amount_cents / 100) * p.points_per_yuan * loyalty_tier_permille(p_tier, p)
              * CASE WHEN extract(month FROM p_birthday) = extract(month FROM p_today)
                     THEN p.birthday_multiplier ELSE 1 END
              / 1000 END
$$;

-- Every change of the program: the rows before and after, as text (program's columns).
CREATE TABLE program_changes (
  change_id  bigserial PRIMARY KEY,
  principal  text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  old_rules  text NOT NULL,
  new_rules  text NOT NULL
);
CREATE TRIGGER program_changes_append_only BEFORE UPDATE OR DELETE ON program_changes
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_ledger_change();

-- Replaces the program's rules. A rule set that breaks program's checks (thresholds not
-- increasing, negative multipliers, ...) raises LY400. Changes apply to movements from the
-- commit on; no ledger row is rewritten.
CREATE FUNCTION loyalty_update_program(p_principal text, p_points_per_yuan int,
                                       p_senior bigint, p_vip bigint, p_supreme bigint,
                                       p_ordinary_permille int, p_senior_permille int,
                                       p_vip_permille int, p_supreme_permille int,
                                       p_birthday_multiplier int, p_min_paid_cents bigint,
                                       p_time_zone text) RETURNS program
LANGUAGE plpgsql AS $$
DECLARE
  v_old program;
  v_new program;
BEGIN
  SELECT * INTO STRICT v_old FROM program FOR UPDATE;
  IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
    RAISE 'unknown time zone' USING ERRCODE = 'LY400', DETAIL = p_time_zone;
  END IF;
  BEGIN
    UPDATE program SET points_per_yuan = p_points_per_yuan, senior_threshold_cents = p_senior,
                       vip_threshold_cents = p_vip, supreme_threshold_cents = p_supreme,
                       ordinary_permille = p_ordinary_permille,
                       senior_permille = p_senior_permille, vip_permille = p_vip_permille,
                       supreme_permille = p_supreme_permille,
                       birthday_multiplier = p_birthday_multiplier,
                       min_paid_cents = p_min_paid_cents, time_zone = p_time_zone
    RETURNING * INTO v_new;
  EXCEPTION WHEN check_violation THEN
    RAISE 'invalid program: thresholds must increase (senior < vip < supreme, all > 0), '
          'multipliers from 0 to 10000 permille, points per yuan from 0 to 100, birthday '
          'multiplier from 1 to 10, minimum paid amount >= 0' USING ERRCODE = 'LY400';
  END;
  INSERT INTO program_changes (principal, old_rules, new_rules)
  VALUES (p_principal, v_old::text, v_new::text);
  PERFORM loyalty_audit(p_principal, 'update_program', 'program', v_new::text);
  RETURN v_new;
END $$;

-- AdjustPoints: HQ's correction (a mistake, goodwill), with a reason, idempotent like every
-- movement. Positive points are a new lot (expiring as an earn's would); negative ones come
-- out of the lots expiring first, and may make the balance negative.
CREATE FUNCTION loyalty_adjust(p_principal text, p_store_code text, p_request_id text,
                               p_hash bytea, p_member_id bigint, p_points bigint,
                               p_reason text) RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_member members := loyalty_lock_member(p_member_id);
  v_request requests := loyalty_find_request(p_store_code, p_request_id, 'AdjustPoints', p_hash);
  v_program program;
  v_balance bigint;
  v_txn_id bigint;
  v_hash bytea;
BEGIN
  IF v_request.request_id IS NOT NULL THEN  -- a retry
    RETURN loyalty_replay(v_request);
  END IF;
  SELECT * INTO STRICT v_program FROM program;
  v_balance := v_member.balance + p_points;
  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_member_id, 'adjustment', p_points, 0, v_store_id, p_principal,
                             p_request_id, '', p_reason, NULL, v_balance, v_member.tier,
                             v_member.ledger_head);
  IF p_points > 0 THEN
    INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
    VALUES (p_member_id, v_txn_id, p_points, least(p_points, greatest(v_balance, 0)),
            loyalty_lot_expiry((now() AT TIME ZONE v_program.time_zone)::date));
  ELSE
    PERFORM loyalty_take_from_lots(p_member_id,
                                   greatest(v_member.balance, 0) - greatest(v_balance, 0),
                                   NULL, NULL);
  END IF;
  UPDATE members SET balance = v_balance, ledger_head = v_hash WHERE member_id = p_member_id;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'AdjustPoints', p_hash,
                                 p_member_id, v_txn_id, false);
  RETURN (v_txn_id, p_points, v_balance, v_member.tier, false, false);
END $$;

GRANT SELECT, INSERT ON program_changes TO loyalty_server;
GRANT USAGE ON SEQUENCE program_changes_change_id_seq TO loyalty_server;
GRANT UPDATE ON program TO loyalty_server;
