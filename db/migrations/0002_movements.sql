-- 0002_movements.sql - the stored functions that make every write one transaction.
--
-- Each public function (loyalty_enroll, loyalty_link_identity, loyalty_earn, loyalty_redeem,
-- loyalty_refund, loyalty_cancel_redemption) is called by loyaltyd as one statement: one
-- round trip, one transaction. Arguments common to all writes:
--   p_principal   key_id of the caller, recorded in the ledger
--   p_store_code  the acting store ('' for HQ acting for no store); also the idempotency scope
--   p_request_id  the caller's request id
--   p_hash        SHA-256 of the canonical request, to tell a retry from a reuse
--
-- Errors are raised with custom SQLSTATEs that loyaltyd maps to gRPC statuses:
--   LY400 INVALID_ARGUMENT, LY403 PERMISSION_DENIED, LY404 NOT_FOUND,
--   LY409 ALREADY_EXISTS, LY412 FAILED_PRECONDITION.
--
-- Concurrency: every movement locks its member row first, so movements of one member are
-- serialized and movements of different members never wait for each other. Only then does
-- it look for an earlier request with the same id: a concurrent copy of the same request
-- (same member) has committed by then and is replayed. The request is recorded at the end,
-- in the same transaction; a concurrent request reusing the id for another member loses
-- on the primary key and gets LY409.

-- What every points movement answers (loyalty.v1.PointsResult).
CREATE TYPE points_result AS (
  txn_id       bigint,
  points       bigint,
  balance      bigint,
  tier         smallint,
  tier_changed boolean,
  replayed     boolean
);

-- The store_id of a store code; NULL for ''. Raises LY404 for an unknown store.
CREATE FUNCTION loyalty_store_id(p_store_code text) RETURNS int
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_store_id int;
BEGIN
  IF p_store_code = '' THEN
    RETURN NULL;
  END IF;
  SELECT store_id INTO v_store_id FROM stores WHERE store_code = p_store_code;
  IF NOT FOUND THEN
    RAISE 'store not found' USING ERRCODE = 'LY404', DETAIL = p_store_code;
  END IF;
  RETURN v_store_id;
END $$;

-- The earlier request with this (scope, request_id), or a row of NULLs when there is none.
-- The same request_id with another method or content raises LY409.
CREATE FUNCTION loyalty_find_request(p_scope text, p_request_id text, p_method text,
                                     p_hash bytea) RETURNS requests
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_request requests;
BEGIN
  SELECT * INTO v_request FROM requests WHERE scope = p_scope AND request_id = p_request_id;
  IF FOUND AND (v_request.method <> p_method OR v_request.request_hash <> p_hash) THEN
    RAISE 'request_id already used with different content'
      USING ERRCODE = 'LY409', DETAIL = p_request_id;
  END IF;
  RETURN v_request;
END $$;

-- Records a request as done, in the transaction of its effect.
CREATE FUNCTION loyalty_record_request(p_scope text, p_request_id text, p_method text,
                                       p_hash bytea, p_member_id bigint, p_txn_id bigint,
                                       p_tier_changed boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO requests (scope, request_id, method, request_hash, member_id, txn_id, tier_changed)
  VALUES (p_scope, p_request_id, p_method, p_hash, p_member_id, p_txn_id, p_tier_changed)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    -- A concurrent request with this id, for another member, committed first.
    RAISE 'request_id already used with different content'
      USING ERRCODE = 'LY409', DETAIL = p_request_id;
  END IF;
END $$;

-- The original answer to a replayed points movement.
CREATE FUNCTION loyalty_replay(p_request requests) RETURNS points_result
LANGUAGE sql STABLE AS $$
  SELECT l.txn_id, l.points, l.balance_after, l.tier_after, p_request.tier_changed, true
  FROM ledger l WHERE l.txn_id = p_request.txn_id
$$;

-- The member row, locked for the rest of the transaction. Raises LY404 if there is none,
-- LY412 naming the member it was merged into if it is closed.
CREATE FUNCTION loyalty_lock_member(p_member_id bigint) RETURNS members
LANGUAGE plpgsql AS $$
DECLARE
  v_member members;
BEGIN
  SELECT * INTO v_member FROM members WHERE member_id = p_member_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE 'member not found' USING ERRCODE = 'LY404', DETAIL = p_member_id::text;
  END IF;
  IF v_member.merged_into IS NOT NULL THEN
    RAISE 'member was merged' USING ERRCODE = 'LY412',
      DETAIL = format('into member %s', v_member.merged_into);
  END IF;
  RETURN v_member;
END $$;

-- The tier that a net spend gives under the program; 0 before any purchase.
CREATE FUNCTION loyalty_tier_for(p_spend_cents bigint, p_has_purchased boolean, p program)
RETURNS smallint
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
CREATE FUNCTION loyalty_tier_permille(p_tier smallint, p program) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_tier
    WHEN 4 THEN p.supreme_permille
    WHEN 3 THEN p.vip_permille
    WHEN 2 THEN p.senior_permille
    ELSE p.ordinary_permille
  END
$$;

-- The points an earn of p_amount_cents gives: whole yuan, times points per yuan, times the
-- multiplier of the tier held before the purchase, times the birthday multiplier in the
-- member's birthday month; rounded down once, at the end. Integer arithmetic only.
CREATE FUNCTION loyalty_earn_points(p_amount_cents bigint, p_tier smallint, p_birthday date,
                                    p_today date, p program) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (p_amount_cents / 100) * p.points_per_yuan * loyalty_tier_permille(p_tier, p)
         * CASE WHEN extract(month FROM p_birthday) = extract(month FROM p_today)
                THEN p.birthday_multiplier ELSE 1 END
         / 1000
$$;

-- When a lot earned on p_today expires: the end of the following calendar year.
CREATE FUNCTION loyalty_lot_expiry(p_today date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT make_date(extract(year FROM p_today)::int + 1, 12, 31)
$$;

-- One field of a canonical row: its length, ':' and its text.
CREATE FUNCTION loyalty_field(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT length(p)::text || ':' || p $$;

-- The canonical content of a ledger row, hashed into its member's chain: every field,
-- each as its length, ':' and its text, so that no two rows share one. loyaltyd's
-- VerifyAudit recomputes the chain from it with OpenSSL.
CREATE FUNCTION loyalty_ledger_canonical(p_txn_id bigint, p_member_id bigint, p_kind text,
                                         p_points bigint, p_amount_cents bigint,
                                         p_store_id int, p_principal text, p_request_id text,
                                         p_order_id text, p_reason text, p_ref_txn_id bigint,
                                         p_balance_after bigint, p_tier_after smallint,
                                         p_created_at timestamptz) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT convert_to(concat_ws(';',
    loyalty_field(p_txn_id::text), loyalty_field(p_member_id::text), loyalty_field(p_kind),
    loyalty_field(p_points::text), loyalty_field(p_amount_cents::text),
    loyalty_field(coalesce(p_store_id::text, '')), loyalty_field(p_principal),
    loyalty_field(p_request_id), loyalty_field(p_order_id), loyalty_field(p_reason),
    loyalty_field(coalesce(p_ref_txn_id::text, '')), loyalty_field(p_balance_after::text),
    loyalty_field(p_tier_after::text),
    loyalty_field(to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))),
    'UTF8')
$$;

-- Appends a ledger row after p_prev_hash (the member's chain head, which the caller holds
-- locked with the member row and moves to row_hash when it updates the member).
-- (PL/pgSQL rather than SQL: its plan is kept for the session, where an SQL function's
-- INSERT would be planned again on every call.)
CREATE FUNCTION loyalty_append_ledger(p_member_id bigint, p_kind text, p_points bigint,
                                      p_amount_cents bigint, p_store_id int, p_principal text,
                                      p_request_id text, p_order_id text, p_reason text,
                                      p_ref_txn_id bigint, p_balance_after bigint,
                                      p_tier_after smallint, p_prev_hash bytea,
                                      OUT txn_id bigint, OUT row_hash bytea)
LANGUAGE plpgsql AS $$
BEGIN
  txn_id := nextval('ledger_txn_id_seq');
  row_hash := sha256(coalesce(p_prev_hash, '') || loyalty_ledger_canonical(
                txn_id, p_member_id, p_kind, p_points, p_amount_cents, p_store_id, p_principal,
                p_request_id, p_order_id, p_reason, p_ref_txn_id, p_balance_after, p_tier_after,
                now()));
  INSERT INTO ledger (txn_id, member_id, kind, points, amount_cents, store_id, principal,
                      request_id, order_id, reason, ref_txn_id, balance_after, tier_after,
                      created_at, prev_hash, row_hash)
  VALUES (txn_id, p_member_id, p_kind, p_points, p_amount_cents, p_store_id, p_principal,
          p_request_id, p_order_id, p_reason, p_ref_txn_id, p_balance_after, p_tier_after,
          now(), coalesce(p_prev_hash, ''), row_hash);
END $$;

-- Takes up to p_points out of the member's lots, p_first_lot first (when given), then the
-- lots expiring first. With p_redeem_txn_id, records what came from which lot.
-- Returns how many points it could take.
CREATE FUNCTION loyalty_take_from_lots(p_member_id bigint, p_points bigint, p_first_lot bigint,
                                       p_redeem_txn_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_lot record;
  v_take bigint;
  v_left bigint := p_points;
BEGIN
  FOR v_lot IN
    SELECT lot_id, remaining FROM lots
    WHERE member_id = p_member_id AND remaining > 0
    ORDER BY lot_id IS DISTINCT FROM p_first_lot, expires_on, lot_id
  LOOP
    EXIT WHEN v_left = 0;
    v_take := least(v_lot.remaining, v_left);
    UPDATE lots SET remaining = remaining - v_take WHERE lot_id = v_lot.lot_id;
    IF p_redeem_txn_id IS NOT NULL THEN
      INSERT INTO redemption_lots (redeem_txn_id, lot_id, points)
      VALUES (p_redeem_txn_id, v_lot.lot_id, v_take);
    END IF;
    v_left := v_left - v_take;
  END LOOP;
  RETURN p_points - v_left;
END $$;

-- Locks the keys that enrolment looks members up by (phone, identities), in a fixed order so
-- two enrolments never deadlock, and so that concurrent enrolments of one person serialize.
CREATE FUNCTION loyalty_lock_enrol_keys(p_phone text, p_kinds text[], p_values text[])
RETURNS void
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
CREATE FUNCTION loyalty_link(p_member_id bigint, p_kind text, p_value text) RETURNS void
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
CREATE FUNCTION loyalty_enroll(p_principal text, p_store_code text, p_request_id text,
                               p_hash bytea, p_phone text, p_name text, p_birthday date,
                               p_kinds text[], p_values text[],
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
CREATE FUNCTION loyalty_link_identity(p_principal text, p_store_code text, p_request_id text,
                                      p_hash bytea, p_member_id bigint, p_kind text,
                                      p_value text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
BEGIN
  PERFORM v_store_id;  -- only to check the store exists
  PERFORM loyalty_lock_member(p_member_id);
  PERFORM loyalty_lock_enrol_keys('', ARRAY[p_kind], ARRAY[p_value]);
  IF (loyalty_find_request(p_store_code, p_request_id, 'LinkIdentity', p_hash)).request_id
     IS NOT NULL THEN
    RETURN true;
  END IF;
  PERFORM loyalty_link(p_member_id, p_kind, p_value);
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'LinkIdentity', p_hash,
                                 p_member_id, NULL, false);
  RETURN false;
END $$;

-- Earn: points for a paid purchase, a new lot, the spend toward tiers.
CREATE FUNCTION loyalty_earn(p_principal text, p_store_code text, p_request_id text,
                             p_hash bytea, p_member_id bigint, p_order_id text,
                             p_amount_cents bigint) RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_member members := loyalty_lock_member(p_member_id);
  v_request requests := loyalty_find_request(p_store_code, p_request_id, 'Earn', p_hash);
  v_program program;
  v_today date;
  v_points bigint;
  v_balance bigint;
  v_spend bigint;
  v_tier smallint;
  v_txn_id bigint;
  v_hash bytea;
  v_campaign record;
BEGIN
  IF v_request.request_id IS NOT NULL THEN
    RETURN loyalty_replay(v_request);
  END IF;
  IF EXISTS (SELECT 1 FROM ledger WHERE member_id = p_member_id AND order_id = p_order_id
             AND kind = 'earn') THEN
    RAISE 'order already earned' USING ERRCODE = 'LY409', DETAIL = p_order_id;
  END IF;
  SELECT * INTO STRICT v_program FROM program;
  v_today := (now() AT TIME ZONE v_program.time_zone)::date;
  -- With the campaigns running now (0015_campaigns.sql).
  SELECT * INTO v_campaign FROM loyalty_campaign_effect(v_store_id, v_member.tier, now());
  v_points := loyalty_campaign_points(p_amount_cents, v_member.tier, v_member.birthday, v_today,
                                      v_program, v_campaign.permille, v_campaign.bonus);
  v_balance := v_member.balance + v_points;
  v_spend := v_member.lifetime_spend_cents + p_amount_cents;
  v_tier := loyalty_policy_tier(p_member_id, v_spend, p_amount_cents, v_member.tier, v_program);

  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_member_id, 'earn', v_points, p_amount_cents, v_store_id,
                             p_principal, p_request_id, p_order_id,
                             loyalty_earn_explanation(p_amount_cents, v_member.tier,
                               v_member.birthday, v_today, v_program, v_campaign.permille,
                               v_campaign.bonus, v_campaign.names, v_points), NULL, v_balance, v_tier,
                             v_member.ledger_head);
  IF v_points > 0 THEN
    -- Points first pay off a negative balance; only what is left can be spent or expire.
    INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
    VALUES (p_member_id, v_txn_id, v_points,
            least(v_points, greatest(v_balance, 0)), loyalty_lot_expiry(v_today));
  END IF;
  UPDATE members SET balance = v_balance, lifetime_spend_cents = v_spend, tier = v_tier,
                     first_purchase_at = coalesce(first_purchase_at, now()), ledger_head = v_hash
  WHERE member_id = p_member_id;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'Earn', p_hash, p_member_id,
                                 v_txn_id, v_tier <> v_member.tier);
  RETURN (v_txn_id, v_points, v_balance, v_tier, v_tier <> v_member.tier, false);
END $$;

-- Earns of distinct members in one transaction: loyaltyd's group commit under load (one
-- round trip and one commit for many earns). It takes only the plain case: every member
-- exists once, every store exists, no request is a retry and no order has earned before.
-- Otherwise it raises LY300 before writing anything (and a race it could not see, such as
-- a concurrent copy of a request, fails the whole batch on a unique index); loyaltyd then
-- makes each earn alone through loyalty_earn, which knows every case. Same rules as
-- loyalty_earn: same formula functions, same rows. Returns one result per earn, in order.
CREATE FUNCTION loyalty_earn_batch(p_principal text[], p_store_code text[], p_request_id text[],
                                   p_hash bytea[], p_member_id bigint[], p_order_id text[],
                                   p_amount_cents bigint[])
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_program program;
  v_today date;
  v_locked bigint;
  i int;
BEGIN
  SELECT * INTO STRICT v_program FROM program;
  v_today := (now() AT TIME ZONE v_program.time_zone)::date;
  IF v_program.tier_policy <> 'lifetime' THEN  -- rolling tiers are computed one by one
    RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
  END IF;
  -- In member_id order, as every batch does, so that batches never deadlock. Every member
  -- must be there, once.
  SELECT count(*) INTO v_locked FROM (
    SELECT 1 FROM members WHERE member_id = ANY (p_member_id) AND merged_into IS NULL
    ORDER BY member_id FOR UPDATE
  ) locked;
  IF v_locked <> cardinality(p_member_id) THEN
    RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
  END IF;
  -- One index probe per earn (a set-wise join here gets a generic plan that scans).
  FOR i IN 1 .. cardinality(p_member_id) LOOP
    IF EXISTS (SELECT 1 FROM requests r
               WHERE r.scope = p_store_code[i] AND r.request_id = p_request_id[i])
       OR EXISTS (SELECT 1 FROM ledger l WHERE l.member_id = p_member_id[i]
                  AND l.order_id = p_order_id[i] AND l.kind = 'earn')
       OR (p_store_code[i] <> ''
           AND NOT EXISTS (SELECT 1 FROM stores s WHERE s.store_code = p_store_code[i])) THEN
      RAISE 'batch needs the one-by-one path' USING ERRCODE = 'LY300';
    END IF;
  END LOOP;

  RETURN QUERY
  WITH input AS (
    SELECT * FROM unnest(p_principal, p_store_code, p_request_id, p_hash, p_member_id,
                         p_order_id, p_amount_cents)
      WITH ORDINALITY AS i(principal, store_code, request_id, hash, member_id, order_id,
                           amount_cents, n)
  ), earned AS (
    SELECT i.*, s.store_id, m.tier AS old_tier, m.balance AS old_balance,
           coalesce(m.ledger_head, '') AS prev_hash, nextval('ledger_txn_id_seq') AS txn_id,
           m.lifetime_spend_cents + i.amount_cents AS spend, m.birthday,
           loyalty_campaign_points(i.amount_cents, m.tier, m.birthday, v_today, v_program,
                                   ce.permille, ce.bonus) AS points,
           ce.permille AS campaign_permille, ce.bonus AS campaign_bonus,
           ce.names AS campaign_names
    FROM input i JOIN members m USING (member_id)
    LEFT JOIN stores s ON s.store_code = i.store_code
    CROSS JOIN LATERAL loyalty_campaign_effect(s.store_id, m.tier, now()) ce
  ), explained AS (
    SELECT e.*, loyalty_earn_explanation(e.amount_cents, e.old_tier, e.birthday, v_today,
                                         v_program, e.campaign_permille, e.campaign_bonus,
                                         e.campaign_names, e.points) AS reason
    FROM earned e
  ), settled AS (
    SELECT e.*, e.old_balance + e.points AS balance,
           loyalty_tier_for(e.spend, true, v_program) AS tier
    FROM explained e
  ), outcome AS (
    SELECT s.*, sha256(s.prev_hash || loyalty_ledger_canonical(
             s.txn_id, s.member_id, 'earn', s.points, s.amount_cents, s.store_id, s.principal,
             s.request_id, s.order_id, s.reason, NULL, s.balance, s.tier, now())) AS row_hash
    FROM settled s
  ), ledger_rows AS (
    INSERT INTO ledger (txn_id, member_id, kind, points, amount_cents, store_id, principal,
                        request_id, order_id, reason, balance_after, tier_after, created_at,
                        prev_hash, row_hash)
    SELECT txn_id, member_id, 'earn', points, amount_cents, store_id, principal, request_id,
           order_id, reason, balance, tier, now(), prev_hash, row_hash
    FROM outcome ORDER BY n
    RETURNING txn_id, member_id
  ), lot_rows AS (
    INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
    SELECT o.member_id, l.txn_id, o.points, least(o.points, greatest(o.balance, 0)),
           loyalty_lot_expiry(v_today)
    FROM outcome o JOIN ledger_rows l USING (member_id) WHERE o.points > 0
  ), member_rows AS (
    UPDATE members m SET balance = o.balance, lifetime_spend_cents = o.spend, tier = o.tier,
                         first_purchase_at = coalesce(m.first_purchase_at, now()),
                         ledger_head = o.row_hash
    FROM outcome o WHERE m.member_id = o.member_id
  ), request_rows AS (
    INSERT INTO requests (scope, request_id, method, request_hash, member_id, txn_id,
                          tier_changed)
    SELECT o.store_code, o.request_id, 'Earn', o.hash, o.member_id, l.txn_id, o.tier <> o.old_tier
    FROM outcome o JOIN ledger_rows l USING (member_id)
  )
  SELECT l.txn_id, o.points, o.balance, o.tier, o.tier <> o.old_tier, false, o.reason
  FROM outcome o JOIN ledger_rows l USING (member_id) ORDER BY o.n;
END $$;

-- Redeem: spends the lots expiring first; never overdraws.
CREATE FUNCTION loyalty_redeem(p_principal text, p_store_code text, p_request_id text,
                               p_hash bytea, p_member_id bigint, p_points bigint,
                               p_order_id text, p_reason text) RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_member members := loyalty_lock_member(p_member_id);
  v_request requests := loyalty_find_request(p_store_code, p_request_id, 'Redeem', p_hash);
  v_txn_id bigint;
  v_hash bytea;
BEGIN
  IF v_request.request_id IS NOT NULL THEN
    RETURN loyalty_replay(v_request);
  END IF;
  IF v_member.balance < p_points THEN
    RAISE 'insufficient points' USING ERRCODE = 'LY412',
      DETAIL = format('balance %s, requested %s', v_member.balance, p_points);
  END IF;
  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_member_id, 'redeem', -p_points, 0, v_store_id, p_principal,
                             p_request_id, p_order_id, p_reason, NULL, v_member.balance -
                             p_points, v_member.tier, v_member.ledger_head);
  IF loyalty_take_from_lots(p_member_id, p_points, NULL, v_txn_id) <> p_points THEN
    RAISE 'lots do not cover the balance' USING DETAIL = p_member_id::text;
  END IF;
  UPDATE members SET balance = balance - p_points, ledger_head = v_hash
  WHERE member_id = p_member_id;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'Redeem', p_hash, p_member_id,
                                 v_txn_id, false);
  RETURN (v_txn_id, -p_points, v_member.balance - p_points, v_member.tier, false, false);
END $$;

-- Refund of part or all of an earn's amount: takes back points in proportion, reduces the
-- net spend and recomputes the tier. The original is found by p_earn_txn_id or p_order_id.
CREATE FUNCTION loyalty_refund(p_principal text, p_store_code text, p_request_id text,
                               p_hash bytea, p_member_id bigint, p_earn_txn_id bigint,
                               p_order_id text, p_amount_cents bigint) RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_member members := loyalty_lock_member(p_member_id);
  v_request requests := loyalty_find_request(p_store_code, p_request_id, 'Refund', p_hash);
  v_program program;
  v_earn ledger;
  v_refunded bigint;     -- by earlier refunds of this earn
  v_taken bigint;        -- by earlier refunds of this earn
  v_take bigint;         -- by this refund
  v_balance bigint;
  v_spend bigint;
  v_tier smallint;
  v_lot_id bigint;
  v_txn_id bigint;
  v_hash bytea;
BEGIN
  -- A tier this changes is recorded as changed by a refund (0010_tier_history.sql).
  PERFORM set_config('loyalty.tier_reason', 'refund', true);
  IF v_request.request_id IS NOT NULL THEN
    RETURN loyalty_replay(v_request);
  END IF;
  IF p_earn_txn_id IS NOT NULL THEN
    SELECT * INTO v_earn FROM ledger
    WHERE txn_id = p_earn_txn_id AND kind = 'earn'
      AND member_id IN (SELECT p_member_id UNION ALL
                        SELECT m.member_id FROM members m WHERE m.merged_into = p_member_id);
  ELSE
    SELECT * INTO v_earn FROM ledger
    WHERE order_id = p_order_id AND kind = 'earn'
      AND member_id IN (SELECT p_member_id UNION ALL
                        SELECT m.member_id FROM members m WHERE m.merged_into = p_member_id);
  END IF;
  IF v_earn.txn_id IS NULL THEN
    RAISE 'original purchase not found' USING ERRCODE = 'LY404',
      DETAIL = coalesce(p_earn_txn_id::text, p_order_id);
  END IF;
  SELECT coalesce(sum(amount_cents), 0), coalesce(-sum(points), 0) INTO v_refunded, v_taken
  FROM ledger WHERE ref_txn_id = v_earn.txn_id AND kind = 'refund';
  IF p_amount_cents > v_earn.amount_cents - v_refunded THEN
    RAISE 'refund exceeds the remaining amount' USING ERRCODE = 'LY412',
      DETAIL = format('remaining %s cents, requested %s',
                      v_earn.amount_cents - v_refunded, p_amount_cents);
  END IF;

  -- What all refunds of this earn take back in total is proportional to what they refunded
  -- in total, rounded down; this refund takes the difference. div() on numeric is exact
  -- integer division, and the product cannot overflow as bigint could.
  v_take := div(v_earn.points::numeric * (v_refunded + p_amount_cents), v_earn.amount_cents)
            - v_taken;

  SELECT * INTO STRICT v_program FROM program;
  v_balance := v_member.balance - v_take;
  v_spend := v_member.lifetime_spend_cents - p_amount_cents;
  v_tier := loyalty_policy_tier(p_member_id, v_spend, -p_amount_cents, v_member.tier,
                                v_program);

  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_member_id, 'refund', -v_take, p_amount_cents, v_store_id,
                             p_principal, p_request_id, v_earn.order_id, '', v_earn.txn_id,
                             v_balance, v_tier, v_member.ledger_head);
  -- Lots keep sum(remaining) = greatest(balance, 0): the points come from the earn's own lot
  -- first; what was already spent makes the balance negative instead.
  SELECT lot_id INTO v_lot_id FROM lots WHERE txn_id = v_earn.txn_id;
  PERFORM loyalty_take_from_lots(p_member_id,
                                 greatest(v_member.balance, 0) - greatest(v_balance, 0),
                                 v_lot_id, NULL);
  UPDATE members SET balance = v_balance, lifetime_spend_cents = v_spend, tier = v_tier,
                     ledger_head = v_hash
  WHERE member_id = p_member_id;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'Refund', p_hash, p_member_id,
                                 v_txn_id, v_tier <> v_member.tier);
  RETURN (v_txn_id, -v_take, v_balance, v_tier, v_tier <> v_member.tier, false);
END $$;

-- CancelRedemption: gives the points back to the lots they came from.
CREATE FUNCTION loyalty_cancel_redemption(p_principal text, p_store_code text,
                                          p_request_id text, p_hash bytea, p_member_id bigint,
                                          p_redeem_txn_id bigint) RETURNS points_result
LANGUAGE plpgsql AS $$
DECLARE
  v_store_id int := loyalty_store_id(p_store_code);
  v_member members := loyalty_lock_member(p_member_id);
  v_request requests := loyalty_find_request(p_store_code, p_request_id, 'CancelRedemption',
                                             p_hash);
  v_points bigint;       -- the redemption's, positive
  v_cancelled_by bigint;
  v_balance bigint;
  v_to_lots bigint;
  v_give bigint;
  v_part record;
  v_txn_id bigint;
  v_hash bytea;
BEGIN
  IF v_request.request_id IS NOT NULL THEN
    RETURN loyalty_replay(v_request);
  END IF;
  SELECT -points INTO v_points FROM ledger
  WHERE txn_id = p_redeem_txn_id AND member_id = p_member_id AND kind = 'redeem';
  IF NOT FOUND THEN
    RAISE 'redemption not found' USING ERRCODE = 'LY404', DETAIL = p_redeem_txn_id::text;
  END IF;
  SELECT txn_id INTO v_cancelled_by FROM ledger
  WHERE ref_txn_id = p_redeem_txn_id AND kind = 'cancel_redemption';
  IF FOUND THEN
    RAISE 'redemption already cancelled' USING ERRCODE = 'LY412',
      DETAIL = format('cancelled by transaction %s', v_cancelled_by);
  END IF;

  v_balance := v_member.balance + v_points;
  SELECT * INTO v_txn_id, v_hash
  FROM loyalty_append_ledger(p_member_id, 'cancel_redemption', v_points, 0, v_store_id,
                             p_principal, p_request_id, '', '', p_redeem_txn_id, v_balance,
                             v_member.tier, v_member.ledger_head);
  -- A negative balance is paid off first; the rest goes back to the lots it came from,
  -- latest expiry first, each with its original expiry date.
  v_to_lots := greatest(v_balance, 0) - greatest(v_member.balance, 0);
  FOR v_part IN
    SELECT rl.lot_id, rl.points FROM redemption_lots rl JOIN lots l USING (lot_id)
    WHERE rl.redeem_txn_id = p_redeem_txn_id
    ORDER BY l.expires_on DESC, l.lot_id DESC
  LOOP
    EXIT WHEN v_to_lots = 0;
    v_give := least(v_part.points, v_to_lots);
    UPDATE lots SET remaining = remaining + v_give WHERE lot_id = v_part.lot_id;
    v_to_lots := v_to_lots - v_give;
  END LOOP;
  UPDATE members SET balance = v_balance, ledger_head = v_hash WHERE member_id = p_member_id;
  PERFORM loyalty_record_request(p_store_code, p_request_id, 'CancelRedemption', p_hash,
                                 p_member_id, v_txn_id, false);
  RETURN (v_txn_id, v_points, v_balance, v_member.tier, false, false);
END $$;
