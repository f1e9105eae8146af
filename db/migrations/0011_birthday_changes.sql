-- 0011_birthday_changes.sql - a birthday can be changed at most once a year (else members
-- would move it to the current month for double points); HQ may override, on record.
ALTER TABLE members ADD COLUMN birthday_changed_at timestamptz;

-- SetBirthday. Setting an unknown birthday is not a change. A second change within 365 days
-- raises LY412, unless p_hq_override (HQ's call), which the admin audit log records.
CREATE FUNCTION loyalty_set_birthday(p_principal text, p_store_code text, p_request_id text,
                                     p_hash bytea, p_member_id bigint, p_birthday date,
                                     p_hq_override boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_member members := loyalty_lock_member(p_member_id);
BEGIN
  PERFORM loyalty_store_id(p_store_code);
  IF (loyalty_find_request(p_store_code, p_request_id, 'SetBirthday', p_hash)).request_id
     IS NOT NULL THEN
    RETURN true;  -- a retry
  END IF;
  IF v_member.birthday IS DISTINCT FROM p_birthday THEN
    IF v_member.birthday IS NOT NULL
       AND v_member.birthday_changed_at > now() - interval '365 days' THEN
      IF NOT p_hq_override THEN
        RAISE 'birthday already changed within a year' USING ERRCODE = 'LY412',
          DETAIL = format('changed on %s; HQ can override',
                          to_char(v_member.birthday_changed_at, 'YYYY-MM-DD'));
      END IF;
      PERFORM loyalty_audit(p_principal, 'override_birthday', p_member_id::text,
                            format('%s -> %s', v_member.birthday, p_birthday));
    END IF;
    UPDATE members SET birthday = p_birthday,
                       birthday_changed_at = CASE WHEN birthday IS NULL
                                                  THEN birthday_changed_at ELSE now() END
    WHERE member_id = p_member_id;
  END IF;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'SetBirthday', p_hash,
                                 p_member_id, NULL, false);
  RETURN false;
END $$;
