-- 0014_tier_policy.sql - tiers under the rolling policy (program.tier_policy, 0013): by the
-- net spend of the last 12 months, with a yearly review that moves a member down at most
-- one tier.

-- Net spend of the member in the 12 months before p_at: purchases minus refunds.
CREATE FUNCTION loyalty_rolling_spend(p_member_id bigint, p_at timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(CASE kind WHEN 'earn' THEN amount_cents ELSE -amount_cents END), 0)
  FROM ledger
  WHERE member_id = p_member_id AND kind IN ('earn', 'refund')
    AND created_at >= p_at - interval '12 months' AND created_at < p_at
$$;

-- The tier after a purchase (p_delta_cents > 0) or refund (< 0), under the program's policy.
-- lifetime: what the lifetime net spend gives. rolling: what the last 12 months give, with
-- this movement; a purchase never lowers the tier, a refund never raises it.
CREATE FUNCTION loyalty_policy_tier(p_member_id bigint, p_lifetime_cents bigint,
                                    p_delta_cents bigint, p_current smallint, p program)
RETURNS smallint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_tier smallint;
BEGIN
  IF p.tier_policy = 'lifetime' THEN
    RETURN loyalty_tier_for(p_lifetime_cents, true, p);
  END IF;
  v_tier := loyalty_tier_for(loyalty_rolling_spend(p_member_id, now()) + p_delta_cents, true, p);
  IF p_delta_cents >= 0 THEN
    RETURN greatest(v_tier, p_current);
  END IF;
  RETURN least(v_tier, greatest(p_current, 1::smallint));
END $$;

-- One review per date: EvaluateTiers for the same date again (or at the same time) changes
-- nothing more.
CREATE TABLE tier_reviews (
  as_of      date PRIMARY KEY,
  principal  text NOT NULL,
  done_at    timestamptz NOT NULL DEFAULT now(),
  members_moved int NOT NULL DEFAULT 0
);

-- The yearly review under the rolling policy: every member above ordinary whose last 12
-- months (before p_as_of, in the program's time zone) give a lower tier moves down one.
-- Returns how many moved, and whether this date had been reviewed already.
CREATE FUNCTION loyalty_evaluate_tiers(p_principal text, p_as_of date,
                                       OUT members_moved int, OUT already_done boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_program program;
  v_at timestamptz;
  v_member record;
  v_target smallint;
BEGIN
  INSERT INTO tier_reviews (as_of, principal) VALUES (p_as_of, p_principal)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN  -- reviewed before, or by a concurrent run that committed first
    SELECT r.members_moved INTO members_moved FROM tier_reviews r WHERE r.as_of = p_as_of;
    already_done := true;
    RETURN;
  END IF;
  already_done := false;
  members_moved := 0;
  SELECT * INTO STRICT v_program FROM program;
  IF v_program.tier_policy = 'rolling' THEN
    v_at := p_as_of::timestamp AT TIME ZONE v_program.time_zone;
    PERFORM set_config('loyalty.tier_reason', 'review', true);
    FOR v_member IN
      SELECT member_id, tier FROM members
      WHERE tier > 1 AND merged_into IS NULL ORDER BY member_id FOR UPDATE
    LOOP
      v_target := loyalty_tier_for(loyalty_rolling_spend(v_member.member_id, v_at), true,
                                   v_program);
      IF v_target < v_member.tier THEN
        UPDATE members SET tier = v_member.tier - 1 WHERE member_id = v_member.member_id;
        members_moved := members_moved + 1;
      END IF;
    END LOOP;
  END IF;
  UPDATE tier_reviews SET members_moved = loyalty_evaluate_tiers.members_moved
  WHERE as_of = p_as_of;
  PERFORM loyalty_audit(p_principal, 'evaluate_tiers', p_as_of::text,
                        format('%s members moved down one tier', members_moved));
END $$;

GRANT SELECT, INSERT, UPDATE ON tier_reviews TO loyalty_server;
