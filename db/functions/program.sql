-- program.sql - the program's rules (the one row of table program), edited by HQ. A change
-- applies to movements from its commit on and rewrites no ledger row; program_changes and
-- the admin audit log record who, when, old and new.
--
-- Business time: a movement that happened before a change (a sale synced late) follows the
-- rules in force when it happened (loyalty_program_at), read back from program_changes.

-- The program's rules in force at p_at: the rules that the first change after p_at replaced
-- (its old_rules_json, by field name: a field the program gained since then has today's
-- value), or today's when nothing changed after p_at. A change takes effect at its
-- changed_at: a movement at that very moment follows the new rules. The common case (p_at
-- after the last change) is one probe of program_changes_changed_at that finds nothing.
CREATE OR REPLACE FUNCTION loyalty_program_at(p_at timestamptz) RETURNS program
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT jsonb_populate_record(p, c.old_rules_json) FROM program_changes c
                   WHERE c.changed_at > p_at ORDER BY c.changed_at, c.change_id LIMIT 1), p)
  FROM program p
$$;

-- When the program last changed (-infinity if never): a moment at or after it has today's
-- rules, no need to ask loyalty_program_at.
CREATE OR REPLACE FUNCTION loyalty_program_changed_at() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(changed_at), '-infinity') FROM program_changes
$$;

-- Replaces the program's rules. A rule set that breaks program's checks (thresholds not
-- increasing, multipliers out of range, ...) or names an unknown time zone raises LY400.
-- p_max_backdate_days NULL leaves it as it is (an older client does not send it).
-- p_pending_days: days pending per channel (pending_days[channel], pending.sql); NULL leaves
-- them as they are. p_point_value_millicents (what a point is worth, report_points.sql):
-- NULL leaves it as it is.
CREATE OR REPLACE FUNCTION loyalty_update_program(p_principal text, p_points_per_yuan int,
                                                  p_senior bigint, p_vip bigint,
                                                  p_supreme bigint, p_ordinary_permille int,
                                                  p_senior_permille int, p_vip_permille int,
                                                  p_supreme_permille int,
                                                  p_birthday_multiplier int,
                                                  p_min_paid_cents bigint, p_time_zone text,
                                                  p_expiry_policy text, p_expiry_months int,
                                                  p_tier_policy text,
                                                  p_max_backdate_days int DEFAULT NULL,
                                                  p_pending_days int[] DEFAULT NULL,
                                                  p_point_value_millicents int DEFAULT NULL)
RETURNS program
LANGUAGE plpgsql AS $$
DECLARE
  v_old program;
  v_new program;
BEGIN
  SELECT * INTO STRICT v_old FROM program FOR UPDATE;
  IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
    RAISE 'unknown time zone' USING ERRCODE = 'LY400', DETAIL = p_time_zone;
  END IF;
  -- The table's check says the same; this says it alone.
  IF EXISTS (SELECT 1 FROM unnest(p_pending_days) d WHERE d NOT BETWEEN 0 AND 90) THEN
    RAISE 'pending days must be from 0 to 90' USING ERRCODE = 'LY400',
      DETAIL = array_to_string(p_pending_days, ',');
  END IF;
  BEGIN
    UPDATE program SET points_per_yuan = p_points_per_yuan, senior_threshold_cents = p_senior,
                       vip_threshold_cents = p_vip, supreme_threshold_cents = p_supreme,
                       ordinary_permille = p_ordinary_permille,
                       senior_permille = p_senior_permille, vip_permille = p_vip_permille,
                       supreme_permille = p_supreme_permille,
                       birthday_multiplier = p_birthday_multiplier,
                       min_paid_cents = p_min_paid_cents, time_zone = p_time_zone,
                       expiry_policy = p_expiry_policy, expiry_months = p_expiry_months,
                       tier_policy = p_tier_policy,
                       max_backdate_days = coalesce(p_max_backdate_days, max_backdate_days),
                       pending_days = coalesce(p_pending_days, pending_days),
                       point_value_millicents = coalesce(p_point_value_millicents,
                                                         point_value_millicents)
    RETURNING * INTO v_new;
  EXCEPTION WHEN check_violation THEN
    RAISE 'invalid program: thresholds must increase (senior < vip < supreme, all > 0), '
          'multipliers from 0 to 10000 permille, points per yuan from 0 to 100, birthday '
          'multiplier from 1 to 10, minimum paid amount >= 0, expiry policy year_end, '
          'rolling (1-120 months) or never, tier policy lifetime or rolling, max backdate days '
          'from 0 to 3650, point value from 0 to 100000 millicents'
      USING ERRCODE = 'LY400';
  END;
  INSERT INTO program_changes (principal, old_rules, new_rules, old_rules_json)
  VALUES (p_principal, v_old::text, v_new::text, to_jsonb(v_old));
  PERFORM loyalty_audit(p_principal, 'update_program', 'program', '', v_new::text);
  RETURN v_new;
END $$;
