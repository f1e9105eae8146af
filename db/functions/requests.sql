-- requests.sql - idempotency, and the preamble every write shares.
--
-- Every write carries a request_id, unique per scope (the acting store's code, or '' for HQ
-- acting for no store). A write records its request in the transaction of its effect; a
-- retry finds it and replays the original answer; the same id with another method or
-- content is LY409.
--
-- Concurrency: a write locks its member row first, so writes of one member are serialized
-- and writes of different members never wait for each other. Only then does it look for an
-- earlier request with its id: a concurrent copy of the same request (same member) has
-- committed by then and is replayed. A concurrent request reusing the id for another member
-- loses on the primary key when it records itself and gets LY409.
--
-- Errors are raised with custom SQLSTATEs that loyaltyd maps to gRPC statuses
-- (server/rpc.c): LY400 INVALID_ARGUMENT, LY403 PERMISSION_DENIED, LY404 NOT_FOUND,
-- LY409 ALREADY_EXISTS, LY412 FAILED_PRECONDITION; LY300 asks loyaltyd to take the
-- one-by-one path (earn.sql).

-- The store_id of a store code; NULL for ''. Raises LY404 for an unknown store.
CREATE OR REPLACE FUNCTION loyalty_store_id(p_store_code text) RETURNS int
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

-- The member row, locked for the rest of the transaction. Raises LY404 if there is none,
-- LY412 naming the member it was merged into if it is closed.
CREATE OR REPLACE FUNCTION loyalty_lock_member(p_member_id bigint) RETURNS members
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

-- The earlier request with this (scope, request_id), or a row of NULLs when there is none.
-- The same request_id with another method or content raises LY409.
CREATE OR REPLACE FUNCTION loyalty_find_request(p_scope text, p_request_id text,
                                                p_method text, p_hash bytea) RETURNS requests
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

-- The preamble of a write on one member: the acting store (LY404 if unknown), the member
-- locked (LY404, LY412 if merged), and the earlier request with this id (replayed true;
-- earlier.txn_id names a movement's ledger row).
CREATE OR REPLACE FUNCTION loyalty_begin_write(p_store_code text, p_request_id text,
                                               p_method text, p_hash bytea, p_member_id bigint,
                                               OUT store_id int, OUT member members,
                                               OUT replayed boolean, OUT earlier requests)
LANGUAGE plpgsql AS $$
BEGIN
  store_id := loyalty_store_id(p_store_code);
  member := loyalty_lock_member(p_member_id);
  earlier := loyalty_find_request(p_store_code, p_request_id, p_method, p_hash);
  replayed := earlier.request_id IS NOT NULL;
END $$;

-- Records a request as done, in the transaction of its effect.
CREATE OR REPLACE FUNCTION loyalty_record_request(p_scope text, p_request_id text,
                                                  p_method text, p_hash bytea,
                                                  p_member_id bigint, p_txn_id bigint,
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
CREATE OR REPLACE FUNCTION loyalty_replay(p_request requests) RETURNS points_result
LANGUAGE sql STABLE AS $$
  SELECT l.txn_id, l.points, l.balance_after, l.tier_after, p_request.tier_changed, true
  FROM ledger l WHERE l.txn_id = p_request.txn_id
$$;

-- Ends a points movement: records its request and gives its answer. p_member is the member
-- as it was before, p_row the ledger row the movement appended (ledger.sql's loyalty_move).
CREATE OR REPLACE FUNCTION loyalty_finish_movement(p_store_code text, p_request_id text,
                                                   p_method text, p_hash bytea,
                                                   p_member members, p_row ledger)
RETURNS points_result
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM loyalty_record_request(p_store_code, p_request_id, p_method, p_hash,
                                 p_member.member_id, p_row.txn_id,
                                 p_row.tier_after <> p_member.tier);
  RETURN (p_row.txn_id, p_row.points, p_row.balance_after, p_row.tier_after,
          p_row.tier_after <> p_member.tier, false)::points_result;
END $$;
