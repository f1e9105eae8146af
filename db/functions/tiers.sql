-- tiers.sql - the tier rule: ordinary, senior, VIP, supreme by net spend (purchases minus
-- refunds) against the program's thresholds; 0 (none) before the first purchase.
--
-- Which spend counts is the program's tier policy: lifetime (the default) or the last 12
-- months. Either way:
--   a purchase never lowers a tier: after it, the higher of the current tier and the one
--     the spend gives;
--   a refund never raises one: after it, the lower of the two;
--   the yearly review (Admin.EvaluateTiers) moves a member whose tier is above what the
--     spend gives down one tier;
--   HQ may set a tier by hand (Admin.SetTier), which holds until HQ changes it, a refund
--     brings the spend below the tier's threshold, or the review runs.
-- Every change is recorded in tier_changes with its reason, by a trigger (triggers.sql);
-- a movement says why through the transaction-local setting loyalty.tier_reason.

-- The tier that a net spend gives under the program; 0 before any purchase.
CREATE OR REPLACE FUNCTION loyalty_tier_for(p_spend_cents bigint, p_has_purchased boolean,
                                            p program) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN NOT p_has_purchased THEN 0
    WHEN p_spend_cents >= p.supreme_threshold_cents THEN 4
    WHEN p_spend_cents >= p.vip_threshold_cents THEN 3
    WHEN p_spend_cents >= p.senior_threshold_cents THEN 2
    ELSE 1
  END::smallint
$$;

-- The earn multiplier of a tier, in permille. A member without a tier earns as ordinary.
CREATE OR REPLACE FUNCTION loyalty_tier_permille(p_tier smallint, p program) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_tier
    WHEN 4 THEN p.supreme_permille
    WHEN 3 THEN p.vip_permille
    WHEN 2 THEN p.senior_permille
    ELSE p.ordinary_permille
  END
$$;

-- Net spend of the member in the 12 months before p_at, by when things happened
-- (occurred_at): the purchases made in the window, minus the refunds made before p_at of
-- those purchases. A refund is dated by its purchase, so a refund of a purchase older than
-- the window takes nothing from it (and the spend never goes below zero). A purchase whose
-- points are pending counts from its release, with its refunds, dated as they were
-- (pending.sql); one refunded in full before its release never counts.
CREATE OR REPLACE FUNCTION loyalty_rolling_spend(p_member_id bigint, p_at timestamptz)
RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(CASE l.kind WHEN 'earn' THEN l.amount_cents ELSE -l.amount_cents END), 0)
  FROM ledger l LEFT JOIN ledger e ON l.kind = 'refund' AND e.txn_id = l.ref_txn_id
  WHERE l.member_id = p_member_id AND l.kind IN ('earn', 'refund') AND l.occurred_at < p_at
    AND coalesce(e.occurred_at, l.occurred_at) >= p_at - interval '12 months'
    AND NOT EXISTS (SELECT 1 FROM pending_earns pe
                    WHERE pe.txn_id = coalesce(e.txn_id, l.txn_id) AND pe.state <> 'released')
$$;

-- The net spend the tier policy counts for p_member at p_at.
CREATE OR REPLACE FUNCTION loyalty_policy_spend(p_member members, p program, p_at timestamptz)
RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT CASE p.tier_policy WHEN 'lifetime' THEN p_member.lifetime_spend_cents
                            ELSE loyalty_rolling_spend(p_member.member_id, p_at) END
$$;

-- The tier of p_member (locked, as it was before) after a purchase (p_delta_cents >= 0) or
-- a refund (< 0) of that amount, now. p_dated_at: when the purchase happened (for a refund,
-- the refunded purchase; NULL: now); under the rolling policy a purchase older than the
-- window adds nothing to its spend, and neither does its refund take anything.
CREATE OR REPLACE FUNCTION loyalty_tier_after(p_member members, p_delta_cents bigint,
                                              p program, p_dated_at timestamptz DEFAULT NULL)
RETURNS smallint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_tier smallint := loyalty_tier_for(
    loyalty_policy_spend(p_member, p, now())
      + CASE WHEN p.tier_policy = 'rolling' AND p_dated_at < now() - interval '12 months'
             THEN 0 ELSE p_delta_cents END,
    true, p);
BEGIN
  IF p_delta_cents >= 0 THEN
    RETURN greatest(v_tier, p_member.tier);
  END IF;
  RETURN least(v_tier, p_member.tier);
END $$;

-- The tier above p_tier and the spend still needed for it: 0 at the top, and 0 for a member
-- with no purchase yet (who becomes ordinary with any purchase).
CREATE OR REPLACE FUNCTION loyalty_next_tier(p_tier smallint, p_spend_cents bigint, p program,
                                             OUT next_tier smallint,
                                             OUT spend_to_next_cents bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_tier >= 4 THEN 0 ELSE p_tier + 1 END::smallint,
         greatest(CASE p_tier WHEN 1 THEN p.senior_threshold_cents
                              WHEN 2 THEN p.vip_threshold_cents
                              WHEN 3 THEN p.supreme_threshold_cents
                              ELSE 0 END - p_spend_cents, 0)
$$;

-- The yearly review, once per date: every member above ordinary whose policy spend before
-- p_as_of (midnight in the program's time zone) gives a lower tier moves down one tier.
-- Returns how many moved, and whether this date had been reviewed already (also by a
-- concurrent run that committed first: then this one changes nothing).
CREATE OR REPLACE FUNCTION loyalty_evaluate_tiers(p_principal text, p_as_of date,
                                                  OUT members_moved int,
                                                  OUT already_done boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_program program;
  v_at timestamptz;
  v_member members;
BEGIN
  INSERT INTO tier_reviews (as_of, principal) VALUES (p_as_of, p_principal)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    SELECT r.members_moved INTO members_moved FROM tier_reviews r WHERE r.as_of = p_as_of;
    already_done := true;
    RETURN;
  END IF;
  already_done := false;
  members_moved := 0;
  SELECT * INTO STRICT v_program FROM program;
  v_at := p_as_of::timestamp AT TIME ZONE v_program.time_zone;
  PERFORM set_config('loyalty.tier_reason', 'review', true);
  FOR v_member IN
    SELECT * FROM members WHERE tier > 1 AND merged_into IS NULL ORDER BY member_id FOR UPDATE
  LOOP
    IF loyalty_tier_for(loyalty_policy_spend(v_member, v_program, v_at), true, v_program)
       < v_member.tier THEN
      UPDATE members SET tier = v_member.tier - 1 WHERE member_id = v_member.member_id;
      members_moved := members_moved + 1;
    END IF;
  END LOOP;
  UPDATE tier_reviews SET members_moved = loyalty_evaluate_tiers.members_moved
  WHERE as_of = p_as_of;
  PERFORM loyalty_audit(p_principal, 'evaluate_tiers', p_as_of::text, '',
                        format('%s members moved down one tier', members_moved));
END $$;

-- HQ sets a member's tier by hand (a VIP kept as a courtesy, a mistake corrected), with a
-- reason: in the tier history as "hq: <reason>" and in the admin audit log.
CREATE OR REPLACE FUNCTION loyalty_set_tier(p_principal text, p_member_id bigint,
                                            p_tier smallint, p_reason text) RETURNS smallint
LANGUAGE plpgsql AS $$
DECLARE
  v_member members := loyalty_lock_member(p_member_id);
BEGIN
  IF p_tier NOT BETWEEN 1 AND 4 THEN
    RAISE 'tier must be ordinary, senior, vip or supreme' USING ERRCODE = 'LY400';
  END IF;
  PERFORM set_config('loyalty.tier_reason', 'hq: ' || p_reason, true);
  UPDATE members SET tier = p_tier WHERE member_id = p_member_id;
  PERFORM loyalty_audit(p_principal, 'set_tier', p_member_id::text, '',
                        format('%s -> %s: %s', v_member.tier, p_tier, p_reason));
  RETURN p_tier;
END $$;

-- The trigger that records every tier change (triggers.sql), with the reason the movement
-- set in loyalty.tier_reason ("purchase" when none did).
CREATE OR REPLACE FUNCTION loyalty_record_tier_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tier_changes (member_id, old_tier, new_tier, reason)
  VALUES (NEW.member_id, OLD.tier, NEW.tier,
          coalesce(nullif(current_setting('loyalty.tier_reason', true), ''), 'purchase'));
  RETURN NULL;
END $$;
