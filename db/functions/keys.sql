-- keys.sql - API keys: issued for a store, or for HQ (an operator, whose name the key
-- carries); rotated by issuing a new one for the same store or operator while the old one
-- works until it is revoked or expires. Only the SHA-256 of a secret is stored; loyaltyd
-- makes the secret (server/auth.c). Every change is in the admin audit log, under the
-- key's store.

-- Issues a key: for p_store_code, or for HQ when it is NULL. p_expires_at: '' for never, or
-- a date or RFC 3339 time (loyaltyd has checked the form; a date means its midnight in the
-- server's time zone).
CREATE OR REPLACE FUNCTION loyalty_issue_key(p_principal text, p_key_id text, p_hash bytea,
                                             p_store_code text, p_name text,
                                             p_expires_at text)
RETURNS TABLE (key_id text, store_code text, name text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int;
  v_expires timestamptz := nullif(p_expires_at, '')::timestamptz;
BEGIN
  IF p_store_code IS NOT NULL THEN
    SELECT s.store_id INTO v_store_id FROM stores s WHERE s.store_code = p_store_code;
    IF NOT FOUND THEN
      RAISE 'store not found' USING ERRCODE = 'LY404', DETAIL = p_store_code;
    END IF;
  END IF;
  IF v_expires <= now() THEN
    RAISE 'expires_at must be in the future' USING ERRCODE = 'LY400', DETAIL = p_expires_at;
  END IF;
  INSERT INTO api_keys (key_id, secret_hash, store_id, name, expires_at)
  VALUES (p_key_id, p_hash, v_store_id, p_name, v_expires);
  PERFORM loyalty_audit(p_principal, 'issue_key', p_key_id, coalesce(p_store_code, ''),
                        format('store %s, name %s, expires %s', coalesce(p_store_code, 'hq'),
                               p_name, coalesce(v_expires::text, 'never')));
  RETURN QUERY SELECT p_key_id, coalesce(p_store_code, ''), p_name, v_expires;
END $$;

-- A new key for the store or operator of p_old_key_id, which keeps working.
CREATE OR REPLACE FUNCTION loyalty_rotate_key(p_principal text, p_old_key_id text,
                                              p_key_id text, p_hash bytea, p_expires_at text)
RETURNS TABLE (key_id text, store_code text, name text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  v_old record;
BEGIN
  SELECT k.name, k.revoked_at, s.store_code INTO v_old
  FROM api_keys k LEFT JOIN stores s USING (store_id) WHERE k.key_id = p_old_key_id;
  IF NOT FOUND THEN
    RAISE 'key not found' USING ERRCODE = 'LY404', DETAIL = p_old_key_id;
  END IF;
  IF v_old.revoked_at IS NOT NULL THEN
    RAISE 'key is revoked' USING ERRCODE = 'LY412', DETAIL = p_old_key_id;
  END IF;
  PERFORM loyalty_audit(p_principal, 'rotate_key', p_old_key_id,
                        coalesce(v_old.store_code, ''), 'new key ' || p_key_id);
  RETURN QUERY SELECT * FROM loyalty_issue_key(p_principal, p_key_id, p_hash,
                                               v_old.store_code, v_old.name, p_expires_at);
END $$;

-- Revokes a key (from now; revoking it again keeps the first time). No row when there is
-- no such key.
CREATE OR REPLACE FUNCTION loyalty_revoke_key(p_principal text, p_key_id text)
RETURNS TABLE (revoked_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_revoked timestamptz;
  v_store_code text;
BEGIN
  UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now())
  WHERE k.key_id = p_key_id
  RETURNING k.revoked_at, (SELECT s.store_code FROM stores s WHERE s.store_id = k.store_id)
  INTO v_revoked, v_store_code;
  IF FOUND THEN
    PERFORM loyalty_audit(p_principal, 'revoke_key', p_key_id, coalesce(v_store_code, ''), '');
    RETURN QUERY SELECT v_revoked;
  END IF;
END $$;
