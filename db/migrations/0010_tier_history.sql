-- 0010_tier_history.sql - every tier change of a member, with the reason: purchase (an earn
-- crossing a threshold), refund (a return falling back below one), or what a later change
-- sets (review, hq). Written by a trigger, so no path that changes a tier can forget it; the
-- movement says why through the transaction-local setting loyalty.tier_reason.
CREATE TABLE tier_changes (
  change_id  bigserial PRIMARY KEY,
  member_id  bigint NOT NULL REFERENCES members,
  changed_at timestamptz NOT NULL DEFAULT now(),
  old_tier   smallint NOT NULL,
  new_tier   smallint NOT NULL,
  reason     text NOT NULL
);
CREATE INDEX tier_changes_member ON tier_changes (member_id, change_id);

CREATE FUNCTION loyalty_record_tier_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tier_changes (member_id, old_tier, new_tier, reason)
  VALUES (NEW.member_id, OLD.tier, NEW.tier,
          coalesce(nullif(current_setting('loyalty.tier_reason', true), ''), 'purchase'));
  RETURN NULL;
END $$;

CREATE TRIGGER members_tier_change AFTER UPDATE OF tier ON members
  FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier)
  EXECUTE FUNCTION loyalty_record_tier_change();

GRANT SELECT, INSERT ON tier_changes TO loyalty_server;
GRANT USAGE ON SEQUENCE tier_changes_change_id_seq TO loyalty_server;
