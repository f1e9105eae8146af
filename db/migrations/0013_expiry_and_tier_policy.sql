-- 0013_expiry_and_tier_policy.sql - two choices of the program:
--   when earned points expire: at the end of the following calendar year (the default, usual
--   in Chinese e-commerce), a rolling number of months after the earn, or never; a change
--   applies to lots earned from then on;
--   what tiers follow: lifetime net spend (the default: tiers never drop except through
--   refunds), or the net spend of the last 12 months with a yearly review (0014).
ALTER TABLE program
  ADD COLUMN expiry_policy text NOT NULL DEFAULT 'year_end'
    CHECK (expiry_policy IN ('year_end', 'rolling', 'never')),
  ADD COLUMN expiry_months int NOT NULL DEFAULT 24 CHECK (expiry_months BETWEEN 1 AND 120),
  ADD COLUMN tier_policy text NOT NULL DEFAULT 'lifetime'
    CHECK (tier_policy IN ('lifetime', 'rolling'));

-- The last day of a lot earned on p_today, under the program's expiry policy.
CREATE OR REPLACE FUNCTION loyalty_lot_expiry(p_today date) RETURNS date
LANGUAGE sql STABLE AS $$
  SELECT CASE p.expiry_policy
           WHEN 'never' THEN 'infinity'::date
           WHEN 'rolling' THEN (p_today + make_interval(months => p.expiry_months))::date
           ELSE make_date(extract(year FROM p_today)::int + 1, 12, 31)
         END
  FROM program p
$$;

-- UpdateProgram, now with the policies.
DROP FUNCTION loyalty_update_program(text, int, bigint, bigint, bigint, int, int, int, int, int,
                                     bigint, text);
CREATE FUNCTION loyalty_update_program(p_principal text, p_points_per_yuan int,
                                       p_senior bigint, p_vip bigint, p_supreme bigint,
                                       p_ordinary_permille int, p_senior_permille int,
                                       p_vip_permille int, p_supreme_permille int,
                                       p_birthday_multiplier int, p_min_paid_cents bigint,
                                       p_time_zone text, p_expiry_policy text,
                                       p_expiry_months int, p_tier_policy text) RETURNS program
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
                       min_paid_cents = p_min_paid_cents, time_zone = p_time_zone,
                       expiry_policy = p_expiry_policy, expiry_months = p_expiry_months,
                       tier_policy = p_tier_policy
    RETURNING * INTO v_new;
  EXCEPTION WHEN check_violation THEN
    RAISE 'invalid program: thresholds must increase (senior < vip < supreme, all > 0), '
          'multipliers from 0 to 10000 permille, points per yuan from 0 to 100, birthday '
          'multiplier from 1 to 10, minimum paid amount >= 0, expiry policy year_end, '
          'rolling (1-120 months) or never, tier policy lifetime or rolling'
      USING ERRCODE = 'LY400';
  END;
  INSERT INTO program_changes (principal, old_rules, new_rules)
  VALUES (p_principal, v_old::text, v_new::text);
  PERFORM loyalty_audit(p_principal, 'update_program', 'program', v_new::text);
  RETURN v_new;
END $$;
