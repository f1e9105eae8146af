-- 0016_tier_override.sql - HQ sets a member's tier by hand (a VIP kept as a courtesy, a
-- mistake corrected), with a reason: in the tier history as "hq: <reason>" and in the admin
-- audit log.
CREATE FUNCTION loyalty_set_tier(p_principal text, p_member_id bigint, p_tier smallint,
                                 p_reason text) RETURNS smallint
LANGUAGE plpgsql AS $$
DECLARE
  v_member members := loyalty_lock_member(p_member_id);
BEGIN
  IF p_tier NOT BETWEEN 1 AND 4 THEN
    RAISE 'tier must be ordinary, senior, vip or supreme' USING ERRCODE = 'LY400';
  END IF;
  PERFORM set_config('loyalty.tier_reason', 'hq: ' || p_reason, true);
  UPDATE members SET tier = p_tier WHERE member_id = p_member_id;
  PERFORM loyalty_audit(p_principal, 'set_tier', p_member_id::text,
                        format('%s -> %s: %s', v_member.tier, p_tier, p_reason));
  RETURN p_tier;
END $$;
