-- members.sql - enrolment, identities and birthdays.
--
-- A member is found by phone or by any identity (WeChat openid, Tmall nick, ...). Enrolling a
-- person already known returns that member; enrolments of one person serialize on advisory
-- locks of their phone and identities, so two tills enrolling one person at once make one
-- member.

-- Locks the keys that enrolment looks members up by (phone, identities), in a fixed order so
-- two enrolments never deadlock, and so that concurrent enrolments of one person serialize.
CREATE OR REPLACE FUNCTION loyalty_lock_enrol_keys(p_phone text, p_kinds text[],
                                                   p_values text[]) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(k)
  FROM (SELECT hashtextextended(key, 0) AS k
        FROM (SELECT 'phone:' || p_phone AS key WHERE p_phone <> ''
              UNION
              SELECT 'identity:' || kind || ':' || value
              FROM unnest(p_kinds, p_values) AS i(kind, value)) keys
        ORDER BY 1) sorted
$$;

-- Links an identity to a member; a no-op if it is already theirs, LY409 if another member's.
CREATE OR REPLACE FUNCTION loyalty_link(p_member_id bigint, p_kind text, p_value text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_owner bigint;
BEGIN
  INSERT INTO identities (kind, value, member_id) VALUES (p_kind, p_value, p_member_id)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    SELECT member_id INTO STRICT v_owner FROM identities WHERE kind = p_kind AND value = p_value;
    IF v_owner <> p_member_id THEN
      RAISE 'identity belongs to another member'
        USING ERRCODE = 'LY409', DETAIL = p_kind || ':' || p_value;
    END IF;
  END IF;
END $$;

-- EnrollMember. Returns the member_id, new or existing, and whether this was a replay.
CREATE OR REPLACE FUNCTION loyalty_enroll(p_principal text, p_store_code text,
                                          p_request_id text, p_hash bytea, p_phone text,
                                          p_name text, p_birthday date, p_kinds text[],
                                          p_values text[],
                                          OUT member_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_request requests;
  v_owner bigint;
  v_owner_phone text;
  i int;
BEGIN
  -- Serializes enrolments of the same person, copies of one request among them.
  PERFORM loyalty_lock_enrol_keys(p_phone, p_kinds, p_values);
  v_request := loyalty_find_request(p_store_code, p_request_id, 'EnrollMember', p_hash);
  replayed := v_request.request_id IS NOT NULL;
  IF replayed THEN
    member_id := v_request.member_id;
    RETURN;
  END IF;

  -- The person may be known already, by phone or by any identity.
  IF p_phone <> '' THEN
    SELECT m.member_id INTO member_id FROM members m WHERE m.phone = p_phone;
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_kinds, 1), 0) LOOP
    SELECT d.member_id, m.phone INTO v_owner, v_owner_phone
    FROM identities d JOIN members m USING (member_id)
    WHERE d.kind = p_kinds[i] AND d.value = p_values[i];
    IF FOUND THEN
      -- The identity's member is this person unless it has another phone than the one given.
      IF member_id IS NULL AND (p_phone = '' OR v_owner_phone IS NULL) THEN
        member_id := v_owner;
      ELSIF v_owner IS DISTINCT FROM member_id THEN
        RAISE 'identity belongs to another member'
          USING ERRCODE = 'LY409', DETAIL = p_kinds[i] || ':' || p_values[i];
      END IF;
    END IF;
  END LOOP;

  IF member_id IS NULL THEN
    INSERT INTO members (phone, name, birthday, enrolled_store_id)
    VALUES (nullif(p_phone, ''), p_name, p_birthday, v_store_id)
    RETURNING members.member_id INTO member_id;
  ELSIF p_phone <> '' THEN
    -- Found by an identity: a member without a phone gets this one (it is nobody else's:
    -- we looked it up first, under its lock).
    UPDATE members m SET phone = p_phone
    WHERE m.member_id = loyalty_enroll.member_id AND m.phone IS NULL;
  END IF;

  FOR i IN 1 .. coalesce(array_length(p_kinds, 1), 0) LOOP
    PERFORM loyalty_link(member_id, p_kinds[i], p_values[i]);
  END LOOP;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'EnrollMember', p_hash, member_id,
                                 NULL, false);
END $$;

-- LinkIdentity. Returns whether this was a replay.
CREATE OR REPLACE FUNCTION loyalty_link_identity(p_principal text, p_store_code text,
                                                 p_request_id text, p_hash bytea,
                                                 p_member_id bigint, p_kind text,
                                                 p_value text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'LinkIdentity', p_hash,
                                  p_member_id);
BEGIN
  IF w.replayed THEN
    RETURN true;
  END IF;
  PERFORM loyalty_lock_enrol_keys('', ARRAY[p_kind], ARRAY[p_value]);
  PERFORM loyalty_link(p_member_id, p_kind, p_value);
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'LinkIdentity', p_hash,
                                 p_member_id, NULL, false);
  RETURN false;
END $$;

-- SetBirthday. A birthday can be changed at most once a year (else members would move it to
-- the current month for double points); setting an unknown birthday is not a change. A
-- second change within 365 days raises LY412 naming the day of the first (in the program's
-- time zone), unless p_hq_override (HQ's call), which the admin audit log records. Returns
-- whether this was a replay.
CREATE OR REPLACE FUNCTION loyalty_set_birthday(p_principal text, p_store_code text,
                                                p_request_id text, p_hash bytea,
                                                p_member_id bigint, p_birthday date,
                                                p_hq_override boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  w record := loyalty_begin_write(p_store_code, p_request_id, 'SetBirthday', p_hash,
                                  p_member_id);
  v_member members := w.member;
  v_program program;
BEGIN
  IF w.replayed THEN
    RETURN true;
  END IF;
  IF v_member.birthday IS DISTINCT FROM p_birthday THEN
    IF v_member.birthday IS NOT NULL
       AND v_member.birthday_changed_at > now() - interval '365 days' THEN
      IF NOT p_hq_override THEN
        SELECT * INTO STRICT v_program FROM program;
        RAISE 'birthday already changed within a year' USING ERRCODE = 'LY412',
          DETAIL = format('changed on %s; HQ can override',
                          to_char(loyalty_local_date(v_program, v_member.birthday_changed_at),
                                  'YYYY-MM-DD'));
      END IF;
      PERFORM loyalty_audit(p_principal, 'override_birthday', p_member_id::text, p_store_code,
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
