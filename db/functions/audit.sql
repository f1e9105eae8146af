-- audit.sql - the admin audit log: one hash chain over every change HQ makes (ledger.sql has
-- the members' chains). Its head is locked while a row is added; admin changes are few.

-- The canonical content of an admin audit row, hashed into the chain (as
-- loyalty_ledger_canonical does for the ledger); Admin.VerifyAudit recomputes the chain
-- from it.
CREATE OR REPLACE FUNCTION loyalty_audit_canonical(a admin_audit) RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT convert_to(concat_ws(';',
    loyalty_field(a.audit_id::text), loyalty_field(a.principal), loyalty_field(a.action),
    loyalty_field(a.subject), loyalty_field(a.store_code), loyalty_field(a.detail),
    loyalty_field(to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))),
    'UTF8')
$$;

-- Appends an admin audit row in the caller's transaction: who (p_principal) did what
-- (p_action) to what (p_subject), concerning which store (p_store_code, '' for none), with
-- the detail. Returns its audit_id.
CREATE OR REPLACE FUNCTION loyalty_audit(p_principal text, p_action text, p_subject text,
                                         p_store_code text, p_detail text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v admin_audit;
BEGIN
  SELECT head INTO STRICT v.prev_hash FROM admin_audit_head WHERE id = 1 FOR UPDATE;
  -- The id only once the head is ours: ids then follow the chain (VerifyAudit walks it in
  -- id order), also when admin changes race.
  v.audit_id := nextval('admin_audit_audit_id_seq');
  v.principal := p_principal;
  v.action := p_action;
  v.subject := p_subject;
  v.store_code := coalesce(p_store_code, '');
  v.detail := p_detail;
  v.created_at := now();
  v.row_hash := sha256(v.prev_hash || loyalty_audit_canonical(v));
  INSERT INTO admin_audit SELECT v.*;
  UPDATE admin_audit_head SET head = v.row_hash WHERE id = 1;
  RETURN v.audit_id;
END $$;
