-- 0007_admin_audit.sql - the admin audit log: every change HQ makes to stores and keys (and,
-- later, the program, campaigns, adjustments, merges), who made it and when. Append-only and
-- hash-chained like the ledger; admin changes are few, so one chain (and one head, locked
-- while a row is added) serves them all without touching the members' chains.
CREATE TABLE admin_audit (
  audit_id   bigserial PRIMARY KEY,
  principal  text NOT NULL,   -- key_id:operator, or "bootstrap" for --init-hq-key
  action     text NOT NULL,   -- create_store, issue_key, rotate_key, revoke_key, set_phone_access
  subject    text NOT NULL,   -- the store_code or key_id acted on
  detail     text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  prev_hash  bytea NOT NULL,
  row_hash   bytea NOT NULL
);
CREATE TABLE admin_audit_head (
  id   int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  head bytea NOT NULL DEFAULT ''
);
INSERT INTO admin_audit_head DEFAULT VALUES;

CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit
  FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_ledger_change();
CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON admin_audit
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_refuse_ledger_change();

-- The canonical content of an admin audit row (as loyalty_ledger_canonical does for the
-- ledger).
CREATE FUNCTION loyalty_audit_canonical(p_audit_id bigint, p_principal text, p_action text,
                                        p_subject text, p_detail text,
                                        p_created_at timestamptz) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT convert_to(string_agg(length(f)::text || ':' || f, ';' ORDER BY i), 'UTF8')
  FROM unnest(ARRAY[p_audit_id::text, p_principal, p_action, p_subject, p_detail,
                    to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')])
       WITH ORDINALITY AS c(f, i)
$$;

-- Appends an admin audit row in the caller's transaction; returns its audit_id.
CREATE FUNCTION loyalty_audit(p_principal text, p_action text, p_subject text, p_detail text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  v_prev bytea;
  v_hash bytea;
BEGIN
  SELECT head INTO STRICT v_prev FROM admin_audit_head WHERE id = 1 FOR UPDATE;
  -- The id only once the head is ours: ids then follow the chain (VerifyAudit walks it in
  -- id order), also when admin changes race.
  v_id := nextval('admin_audit_audit_id_seq');
  v_hash := sha256(v_prev || loyalty_audit_canonical(v_id, p_principal, p_action, p_subject,
                                                     p_detail, now()));
  INSERT INTO admin_audit (audit_id, principal, action, subject, detail, created_at, prev_hash,
                           row_hash)
  VALUES (v_id, p_principal, p_action, p_subject, p_detail, now(), v_prev, v_hash);
  UPDATE admin_audit_head SET head = v_hash WHERE id = 1;
  RETURN v_id;
END $$;

GRANT SELECT, INSERT ON admin_audit TO loyalty_server;
GRANT SELECT, UPDATE ON admin_audit_head TO loyalty_server;
GRANT USAGE ON SEQUENCE admin_audit_audit_id_seq TO loyalty_server;
