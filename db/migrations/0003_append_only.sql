-- 0003_append_only.sql - the ledger is append-only: rows are inserted, never changed or
-- removed, whoever asks. (A role without UPDATE/DELETE rights for the server comes with the
-- least-privilege work; this holds even for the owner.)
CREATE FUNCTION loyalty_refuse_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE 'the ledger is append-only' USING ERRCODE = 'LY403', DETAIL = TG_OP;
END $$;

CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_ledger_change();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_refuse_ledger_change();
