-- triggers.sql - every trigger, applied after the other function files (a trigger needs its
-- function). Dropping the function set drops these with it; they come back here.

-- The ledger and the audit trails are append-only, whoever asks (ledger.sql).
CREATE OR REPLACE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_change();
CREATE OR REPLACE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_refuse_change();
CREATE OR REPLACE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_change();
CREATE OR REPLACE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON admin_audit
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_refuse_change();
CREATE OR REPLACE TRIGGER program_changes_append_only BEFORE UPDATE OR DELETE ON program_changes
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_change();

-- Every tier change goes into tier_changes, whatever path made it (tiers.sql).
CREATE OR REPLACE TRIGGER members_tier_change AFTER UPDATE OF tier ON members
  FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier)
  EXECUTE FUNCTION loyalty_record_tier_change();
