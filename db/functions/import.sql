-- import.sql - a brand's history from its old CRM or POS: stores, members, opening balances
-- and orders (Admin.ImportRows, server/import.c; loyaltyctl import; docs/import.md).
--
-- loyaltyd checks each row's fields (server/import.c) and sends a batch of good rows, in
-- file line order, with the lines it refused. loyalty_import applies the batch in one
-- transaction, row by row under the same rules as the live calls, and moves its run's
-- last_line (import_runs) in that transaction: a run cut off resumes after the last batch
-- that committed, and a file run again skips every line. Each row is all or nothing; a row
-- that breaks a rule is rejected with its reason (import_rejections) and the batch goes on.
--
-- Imported rows are ordinary chained ledger rows (ledger.sql: loyalty_chain_row), whose
-- request_id is 'import <run_id>' (live request_ids have no space):
--   purchase      earn, points from the file's column (default 0: the carried-over points
--                 come from the balances file), occurred_at the sale's time; counts for spend,
--                 first purchase and tier (reason 'import'). Key: (store, order_id); a
--                 purchase whose order is another member's is rejected.
--   refund        refund of its purchase (same member), points taken back in proportion as
--                 a live refund does (refund.sql). Key: (store, order_id): one imported refund
--                 per purchase, its amount the total refunded.
--   opening       a balance carried over, its lot expiring on expires_on (order_id holds that
--                 date). Key: (member, expires_on). A lot already past its date expires in
--                 the import, as RunExpiry would (expiry.sql).
-- Rows of one member are written in line order under the member's row lock (members locked
-- in member_id order, as every write of several members does); the member's balance, spend,
-- first purchase, tier and chain head move once per member per batch.

-- The member a file names: an 11-digit phone, "id:<member_id>", or "kind:value", one of the
-- member's identities. One row; member_id NULL when there is none. (An SQL function returning
-- a table: the planner inlines it where it is joined, so a batch resolves its members in one
-- statement.)
CREATE OR REPLACE FUNCTION loyalty_import_member(p_ref text) RETURNS TABLE (member_id bigint)
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_ref ~ '^1[0-9]{10}$' THEN (SELECT m.member_id FROM members m WHERE m.phone = p_ref)
    WHEN p_ref ~ '^id:[0-9]{1,18}$' THEN
      (SELECT m.member_id FROM members m WHERE m.member_id = substr(p_ref, 4)::bigint)
    ELSE (SELECT d.member_id FROM identities d
          WHERE d.kind = split_part(p_ref, ':', 1)
            AND d.value = substr(p_ref, length(split_part(p_ref, ':', 1)) + 2))
  END
$$;

-- Stores: store_code, name, channel (loyalty.v1.Channel's number), region. Key: store_code.
CREATE OR REPLACE FUNCTION loyalty_import_stores(p_run import_runs, p_first int, p_line bigint[],
                                                 p_f text[], INOUT imported bigint,
                                                 INOUT skipped bigint,
                                                 INOUT rej_lines bigint[],
                                                 INOUT rej_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
BEGIN
  FOR v_row IN
    SELECT * FROM unnest(p_line[p_first:], p_f[1:1][p_first:], p_f[2:2][p_first:],
                         p_f[3:3][p_first:], p_f[4:4][p_first:])
                  AS b(line, store_code, name, channel, region)
  LOOP
    INSERT INTO stores (store_code, name, channel, region)
    VALUES (v_row.store_code, v_row.name, v_row.channel::smallint, v_row.region)
    ON CONFLICT (store_code) DO NOTHING;
    IF FOUND THEN
      PERFORM loyalty_audit(p_run.principal, 'create_store', v_row.store_code, v_row.store_code,
                            format('name %s, channel %s, region %s (import)', v_row.name,
                                   v_row.channel, v_row.region));
      imported := imported + 1;
    ELSE
      skipped := skipped + 1;
    END IF;
  END LOOP;
END $$;

-- Members: phone, name, birthday, identities ("kind:value|kind:value"), enrolled_store,
-- enrolled_at. Key: the phone, else the first identity. A phone known with another name, an
-- identity of another member or an unknown store rejects the row.
CREATE OR REPLACE FUNCTION loyalty_import_members(p_run import_runs, p_first int, p_line bigint[],
                                                  p_f text[], INOUT imported bigint,
                                                  INOUT skipped bigint,
                                                  INOUT rej_lines bigint[],
                                                  INOUT rej_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
  v_items text[];
  v_kinds text[];
  v_values text[];
  v_store_id int;
  v_member members;
  v_owner bigint;
  v_why text;
  j int;
BEGIN
  FOR v_row IN
    SELECT * FROM unnest(p_line[p_first:], p_f[1:1][p_first:], p_f[2:2][p_first:],
                         p_f[3:3][p_first:], p_f[4:4][p_first:], p_f[5:5][p_first:],
                         p_f[6:6][p_first:])
                  AS b(line, phone, name, birthday, identities, enrolled_store, enrolled_at)
  LOOP
    v_items := CASE WHEN v_row.identities = '' THEN '{}'
                    ELSE string_to_array(v_row.identities, '|') END;
    SELECT coalesce(array_agg(split_part(x, ':', 1) ORDER BY n), '{}'),
           coalesce(array_agg(substr(x, length(split_part(x, ':', 1)) + 2) ORDER BY n), '{}')
    INTO v_kinds, v_values FROM unnest(v_items) WITH ORDINALITY AS t(x, n);
    PERFORM loyalty_lock_enrol_keys(v_row.phone, v_kinds, v_values);
    v_why := NULL;
    v_store_id := NULL;
    IF v_row.enrolled_store <> '' THEN
      SELECT store_id INTO v_store_id FROM stores WHERE store_code = v_row.enrolled_store;
      IF NOT FOUND THEN
        v_why := format('unknown store (%s)', v_row.enrolled_store);
      END IF;
    END IF;
    v_member := NULL;
    IF v_why IS NULL AND v_row.phone <> '' THEN
      SELECT * INTO v_member FROM members WHERE phone = v_row.phone;
      IF FOUND AND v_member.name <> v_row.name THEN
        v_why := format('phone %s belongs to a member with another name (member %s)',
                        v_row.phone, v_member.member_id);
      END IF;
    ELSIF v_why IS NULL THEN
      SELECT m.* INTO v_member FROM identities d JOIN members m USING (member_id)
      WHERE d.kind = v_kinds[1] AND d.value = v_values[1];
    END IF;
    IF v_why IS NULL AND v_member.member_id IS NOT NULL THEN
      skipped := skipped + 1;  -- already there
      CONTINUE;
    END IF;
    FOR j IN 1 .. cardinality(v_kinds) LOOP
      EXIT WHEN v_why IS NOT NULL;
      SELECT member_id INTO v_owner FROM identities WHERE kind = v_kinds[j] AND value = v_values[j];
      IF FOUND THEN
        v_why := format('identity %s:%s belongs to another member (member %s)',
                        v_kinds[j], v_values[j], v_owner);
      END IF;
    END LOOP;
    IF v_why IS NOT NULL THEN
      rej_lines := rej_lines || v_row.line;
      rej_reasons := rej_reasons || v_why;
      CONTINUE;
    END IF;
    INSERT INTO members (phone, name, birthday, enrolled_store_id, enrolled_at)
    VALUES (nullif(v_row.phone, ''), v_row.name, nullif(v_row.birthday, '')::date, v_store_id,
            nullif(v_row.enrolled_at, '')::timestamptz)
    RETURNING * INTO v_member;
    INSERT INTO identities (kind, value, member_id)
    SELECT k, v, v_member.member_id FROM unnest(v_kinds, v_values) AS t(k, v)
    ON CONFLICT DO NOTHING;  -- the same identity twice in one row
    imported := imported + 1;
  END LOOP;
END $$;

-- A member's rows of a batch are done: its running state (p_member, as the rows left it)
-- becomes the member's. (PL/pgSQL: its plan is kept for the session.)
CREATE OR REPLACE FUNCTION loyalty_import_flush(p_member members) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE members
  SET balance = p_member.balance, tier = p_member.tier, ledger_head = p_member.ledger_head,
      lifetime_spend_cents = p_member.lifetime_spend_cents,
      first_purchase_at = p_member.first_purchase_at
  WHERE member_id = p_member.member_id;
END $$;

-- The member of a row, locked: the same running state while rows of one member follow each
-- other (rows come in member_id order); another member flushes the previous one first.
-- Returns the member, or NULL with *why set when the row cannot be applied to it.
CREATE OR REPLACE FUNCTION loyalty_import_switch(p_current members, p_member_id bigint,
                                                 p_ref text, OUT member members,
                                                 OUT why text)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_member_id IS NULL THEN
    why := format('unknown member (%s)', p_ref);
    member := p_current;
    RETURN;
  END IF;
  IF p_current.member_id = p_member_id THEN
    member := p_current;
  ELSE
    IF p_current.member_id IS NOT NULL THEN
      PERFORM loyalty_import_flush(p_current);
    END IF;
    SELECT * INTO member FROM members WHERE member_id = p_member_id FOR UPDATE;
  END IF;
  IF member.merged_into IS NOT NULL THEN
    why := format('member %s was merged (into member %s)', p_member_id, member.merged_into);
  END IF;
END $$;

-- Opening balances: member, points, expires_on. Key: (member, expires_on). Each is a ledger
-- row of kind opening and a lot expiring on expires_on; the lots of a member already past
-- their date expire at the end of the batch, as RunExpiry on the program's today would.
CREATE OR REPLACE FUNCTION loyalty_import_balances(p_run import_runs, p_first int, p_line bigint[],
                                                   p_f text[], INOUT imported bigint,
                                                   INOUT skipped bigint,
                                                   INOUT rej_lines bigint[],
                                                   INOUT rej_reasons text[],
                                                   INOUT imported_points bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_program program;
  v_today date;
  v_request text := 'import ' || p_run.run_id;
  v_row record;
  v_member members;
  v_sw record;
  v_ledger ledger;
  v_points bigint;
  v_expired bigint[] := '{}';
  v_id bigint;
BEGIN
  SELECT * INTO STRICT v_program FROM program;
  v_today := loyalty_local_date(v_program, now());
  FOR v_row IN
    SELECT b.line, b.ref, b.points::bigint AS points, b.expires_on::date AS expires_on,
           r.member_id
    FROM unnest(p_line[p_first:], p_f[1:1][p_first:], p_f[2:2][p_first:], p_f[3:3][p_first:])
         AS b(line, ref, points, expires_on)
    CROSS JOIN LATERAL loyalty_import_member(b.ref) r
    ORDER BY 5 NULLS FIRST, 1
  LOOP
    v_sw := loyalty_import_switch(v_member, v_row.member_id, v_row.ref);
    v_member := v_sw.member;
    IF v_sw.why IS NOT NULL THEN
      rej_lines := rej_lines || v_row.line;
      rej_reasons := rej_reasons || v_sw.why;
      CONTINUE;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger WHERE member_id = v_member.member_id AND kind = 'opening'
                                      AND order_id = v_row.expires_on::text) THEN
      skipped := skipped + 1;
      CONTINUE;
    END IF;
    v_points := v_row.points;
    v_ledger := loyalty_chain_row(v_member, loyalty_ledger_row(
      'opening', v_points, v_member.balance + v_points, v_member.tier, p_run.principal,
      v_request, p_order_id => v_row.expires_on::text,
      p_reason => 'imported opening balance, last day ' || v_row.expires_on));
    INSERT INTO ledger SELECT v_ledger.*;
    PERFORM loyalty_add_lot(v_ledger, v_row.expires_on);
    v_member.balance := v_ledger.balance_after;
    v_member.ledger_head := v_ledger.row_hash;
    IF v_row.expires_on < v_today THEN
      v_expired := v_expired || v_member.member_id;
    END IF;
    imported := imported + 1;
    imported_points := imported_points + v_points;
  END LOOP;
  IF v_member.member_id IS NOT NULL THEN
    PERFORM loyalty_import_flush(v_member);
  END IF;
  FOR v_id IN SELECT DISTINCT unnest(v_expired) ORDER BY 1 LOOP
    PERFORM loyalty_expire_member((SELECT m FROM members m WHERE m.member_id = v_id),
                                  p_run.principal, v_today);
  END LOOP;
END $$;

-- Orders: store, order_id, kind (purchase or refund), member, amount_cents, occurred_at,
-- points. Key: (store, order_id, kind).
--
-- Set-wise, as far as the chains allow. The batch is staged (a temporary table of the
-- session) with its stores and members resolved and each row's fate decided in one
-- statement; the new purchases are then written in rounds, round k making the k-th new
-- purchase of every member of the batch in one statement (rows of one member chain one
-- after the other, members in parallel), a member's running state moving once per round.
-- Refunds follow one by one in line order (they are few, and each depends on its purchase
-- and the refunds before it): within a batch, a member's purchases are written before its
-- refunds.
CREATE OR REPLACE FUNCTION loyalty_import_orders(p_run import_runs, p_first int,
                                                 p_line bigint[], p_f text[],
                                                 INOUT imported bigint, INOUT skipped bigint,
                                                 INOUT rej_lines bigint[],
                                                 INOUT rej_reasons text[],
                                                 INOUT imported_amount_cents bigint,
                                                 INOUT imported_points bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_program program;
  v_today date;
  v_request text := 'import ' || p_run.run_id;
  v_rounds int;
  v_done record;
  v_expired bigint[] := '{}';
  v_row record;
  v_member members;
  v_why text;
  v_earn ledger;
  v_ledger ledger;
  v_refunded bigint;
  v_taken bigint;
  v_take bigint;
  v_lot_id bigint;
  v_id bigint;
  v_merged bigint[];
  v_merged_into bigint[];
  k int;
BEGIN
  SELECT * INTO STRICT v_program FROM program;
  v_today := loyalty_local_date(v_program, now());
  IF to_regclass('pg_temp.import_order_stage') IS NULL THEN
    CREATE TEMP TABLE import_order_stage (
      line bigint, store_code text, order_id text, kind text, ref text, amount_cents bigint,
      occurred_at timestamptz, points bigint, store_id int, member_id bigint,
      why text,      -- rejected, why
      skip boolean,  -- already there
      round int,     -- a new purchase: the member's k-th in the batch
      purchase_line bigint  -- the line of the batch's new purchase of this order, if any
    ) ON COMMIT DELETE ROWS;  -- emptied in place: TRUNCATE would make every call replan
  END IF;
  DELETE FROM import_order_stage;  -- empty, unless called twice in one transaction

  -- The batch staged, each row's fate decided. (The rows with their member and store first,
  -- materialized: each member looked up once.)
  INSERT INTO import_order_stage (line, store_code, order_id, kind, ref, amount_cents, occurred_at,
                                  points, store_id, member_id, why, skip, round, purchase_line)
  WITH b AS MATERIALIZED (
    SELECT o.line, o.store_code, o.order_id, o.kind, o.ref, o.amount_cents::bigint,
           o.occurred_at::timestamptz, o.points::bigint, st.store_id, r.member_id,
           e.earned_by
    FROM unnest(p_line[p_first:], p_f[1:1][p_first:], p_f[2:2][p_first:], p_f[3:3][p_first:],
                p_f[4:4][p_first:], p_f[5:5][p_first:], p_f[6:6][p_first:], p_f[7:7][p_first:])
         AS o(line, store_code, order_id, kind, ref, amount_cents, occurred_at, points)
    CROSS JOIN LATERAL loyalty_import_member(o.ref) r
    LEFT JOIN stores st ON st.store_code = o.store_code
    -- A purchase whose order has earned: whose. One index probe per row (LIMIT 1 keeps it a
    -- probe; an EXISTS got a plan hashing the whole ledger).
    LEFT JOIN LATERAL (SELECT l.member_id AS earned_by FROM ledger l
                       WHERE o.kind = 'purchase' AND l.kind = 'earn'
                         AND l.order_id = o.order_id AND l.store_id = st.store_id
                       LIMIT 1) e ON true
  ), keyed AS (
    -- A purchase's order: earned before (earned_by), or named on an earlier line of the
    -- batch (by first_by); the same member's row is already there, another's is rejected.
    SELECT b.*,
           CASE WHEN b.kind = 'purchase' AND row_number() OVER w > 1
                THEN first_value(b.member_id) OVER w END AS first_by
    FROM b
    WINDOW w AS (PARTITION BY b.kind, b.store_id, b.order_id ORDER BY b.line)
  ), decided AS (
    SELECT k.*,
           CASE WHEN k.member_id IS NULL THEN format('unknown member (%s)', k.ref)
                WHEN k.store_id IS NULL THEN format('unknown store (%s)', k.store_code)
                WHEN coalesce(k.earned_by, k.first_by) <> k.member_id
                  THEN format('order %s at %s is member %s''s', k.order_id, k.store_code,
                              coalesce(k.earned_by, k.first_by))
           END AS why,  -- (a merged member: when the members are locked, below)
           coalesce(coalesce(k.earned_by, k.first_by) = k.member_id, false) AS skip
    FROM keyed k
  )
  SELECT d.line, d.store_code, d.order_id, d.kind, d.ref, d.amount_cents, d.occurred_at, d.points,
         d.store_id, d.member_id, d.why, d.skip,
         CASE WHEN d.why IS NULL AND d.kind = 'purchase' AND NOT d.skip
                   THEN row_number() OVER (PARTITION BY d.why IS NULL AND d.kind = 'purchase'
                                                        AND NOT d.skip, d.member_id
                                           ORDER BY d.line) END,
         min(d.line) FILTER (WHERE d.kind = 'purchase' AND d.why IS NULL AND NOT d.skip)
           OVER (PARTITION BY d.store_id, d.order_id)
  FROM decided d;

  -- The members of the batch, locked in member_id order as every write of several does; one
  -- merged since it was staged is closed now. (Probed by member_id: a join with the stage,
  -- which has no statistics, may scan every member.)
  WITH locked AS (
    SELECT m.member_id, m.merged_into FROM members m
    WHERE m.member_id = ANY (ARRAY(SELECT DISTINCT s.member_id FROM import_order_stage s
                                   WHERE s.member_id IS NOT NULL))
    ORDER BY m.member_id FOR UPDATE
  )
  SELECT array_agg(member_id), array_agg(merged_into) INTO v_merged, v_merged_into
  FROM locked WHERE merged_into IS NOT NULL;
  IF v_merged IS NOT NULL THEN
    UPDATE import_order_stage s
    SET why = format('member %s was merged (into member %s)', s.member_id, m.merged_into),
        round = NULL
    FROM unnest(v_merged, v_merged_into) AS m(member_id, merged_into)
    WHERE m.member_id = s.member_id AND s.why IS NULL;
  END IF;
  SELECT coalesce(max(round), 0), count(*) FILTER (WHERE why IS NULL AND skip)
  INTO v_rounds, skipped FROM import_order_stage;
  SELECT rej_lines || coalesce(array_agg(line ORDER BY line), '{}'),
         rej_reasons || coalesce(array_agg(why ORDER BY line), '{}')
  INTO rej_lines, rej_reasons
  FROM import_order_stage WHERE why IS NOT NULL;

  FOR k IN 1 .. v_rounds LOOP
    WITH chained AS MATERIALIZED (
      SELECT s.member_id, s.amount_cents, s.occurred_at,
             loyalty_chain_row(m, loyalty_ledger_row(
               'earn', s.points, m.balance + s.points,
               loyalty_tier_after(m, s.amount_cents, v_program), p_run.principal, v_request,
               p_store_id => s.store_id, p_amount_cents => s.amount_cents,
               p_order_id => s.order_id, p_reason => 'imported purchase',
               p_occurred_at => s.occurred_at)) AS l
      FROM import_order_stage s JOIN members m USING (member_id)
      WHERE s.round = k
    ), ledger_rows AS (
      INSERT INTO ledger SELECT (c.l).* FROM chained c
    ), lot_rows AS (
      -- The old system's points, if the file gives them: a lot expiring as an earn's would.
      INSERT INTO lots (member_id, txn_id, points, remaining, expires_on)
      SELECT c.member_id, (c.l).txn_id, (c.l).points,
             least((c.l).points, greatest((c.l).balance_after, 0)),
             loyalty_lot_expiry(v_program, loyalty_local_date(v_program, c.occurred_at))
      FROM chained c WHERE (c.l).points > 0
    ), member_rows AS (
      UPDATE members m
      SET balance = (c.l).balance_after, tier = (c.l).tier_after, ledger_head = (c.l).row_hash,
          lifetime_spend_cents = m.lifetime_spend_cents + c.amount_cents,
          first_purchase_at = least(m.first_purchase_at, c.occurred_at)
      FROM chained c WHERE m.member_id = c.member_id
    )
    SELECT count(*) AS n, coalesce(sum(c.amount_cents), 0) AS amount,
           coalesce(sum((c.l).points), 0) AS points,
           coalesce(array_agg(c.member_id) FILTER (
             WHERE (c.l).points > 0
               AND loyalty_lot_expiry(v_program, loyalty_local_date(v_program, c.occurred_at))
                   < v_today), '{}') AS expired
    INTO v_done FROM chained c;
    imported := imported + v_done.n;
    imported_amount_cents := imported_amount_cents + v_done.amount;
    imported_points := imported_points + v_done.points;
    v_expired := v_expired || v_done.expired;
  END LOOP;

  FOR v_row IN
    SELECT * FROM import_order_stage WHERE kind = 'refund' AND why IS NULL ORDER BY line
  LOOP
    SELECT * INTO v_member FROM members WHERE member_id = v_row.member_id;
    SELECT * INTO v_earn FROM ledger
    WHERE order_id = v_row.order_id AND store_id = v_row.store_id AND kind = 'earn';
    v_why := NULL;
    IF v_earn.txn_id IS NULL OR v_row.purchase_line > v_row.line THEN
      v_why := format('refund of an unknown purchase (%s at %s): it must be on an earlier line'
                      ' or imported before', v_row.order_id, v_row.store_code);
    ELSIF v_earn.member_id <> v_member.member_id THEN
      v_why := format('the purchase is member %s''s, not this member''s', v_earn.member_id);
    ELSIF EXISTS (SELECT 1 FROM ledger WHERE ref_txn_id = v_earn.txn_id AND kind = 'refund'
                                         AND request_id LIKE 'import %') THEN
      skipped := skipped + 1;
      CONTINUE;
    ELSIF v_row.occurred_at < v_earn.occurred_at THEN
      v_why := 'refund before its purchase';
    ELSIF loyalty_earn_is_pending(v_earn.txn_id) THEN  -- a live online sale (pending.sql)
      v_why := format('the purchase''s points are still pending (%s at %s): refund it live',
                      v_row.order_id, v_row.store_code);
    END IF;
    IF v_why IS NULL THEN
      SELECT coalesce(sum(amount_cents), 0), coalesce(-sum(points + pending_points), 0)
      INTO v_refunded, v_taken
      FROM ledger WHERE ref_txn_id = v_earn.txn_id AND kind = 'refund';
      IF v_row.amount_cents > v_earn.amount_cents - v_refunded THEN
        v_why := format('refund exceeds the purchase''s remaining amount (%s cents)',
                        v_earn.amount_cents - v_refunded);
      END IF;
    END IF;
    IF v_why IS NOT NULL THEN
      rej_lines := rej_lines || v_row.line;
      rej_reasons := rej_reasons || v_why;
      CONTINUE;
    END IF;
    -- As a live refund takes them (refund.sql): in proportion, the earn's own lot first.
    v_take := loyalty_refund_take(v_earn, v_refunded, v_taken, v_row.amount_cents);
    v_ledger := loyalty_move(v_member, loyalty_ledger_row(
      'refund', -v_take, v_member.balance - v_take,
      loyalty_tier_after(v_member, -v_row.amount_cents, v_program), p_run.principal,
      v_request, p_store_id => v_row.store_id, p_amount_cents => v_row.amount_cents,
      p_order_id => v_row.order_id, p_reason => 'imported refund',
      p_ref_txn_id => v_earn.txn_id, p_occurred_at => v_row.occurred_at),
      -v_row.amount_cents);
    IF v_take > 0 THEN
      SELECT lot_id INTO v_lot_id FROM lots
      WHERE member_id = v_member.member_id AND txn_id = v_earn.txn_id AND remaining > 0;
      PERFORM loyalty_take_from_lots(v_member.member_id,
                                     greatest(v_member.balance, 0)
                                     - greatest(v_ledger.balance_after, 0), v_lot_id, NULL);
    END IF;
    imported := imported + 1;
    imported_amount_cents := imported_amount_cents - v_row.amount_cents;
  END LOOP;

  FOR v_id IN SELECT DISTINCT unnest(v_expired) ORDER BY 1 LOOP
    PERFORM loyalty_expire_member((SELECT m FROM members m WHERE m.member_id = v_id),
                                  p_run.principal, v_today);
  END LOOP;
END $$;

-- One batch of an import run: the run of (p_kind, p_sha256, p_part), made on its first
-- batch (p_part: '' for a file sent whole, 'K/N' for the K-th of N parts sent at once, split
-- by member); the rows p_line/p_fields (p_fields[c] the rows' c-th column, as loyaltyd
-- checked them) and the lines loyaltyd refused with why (p_bad_line, p_bad_reason). Lines up
-- to the run's last_line were done by an earlier call: skipped, their rejections reported
-- again. With p_dry_run everything is checked and nothing stays written. Returns the counts
-- of this call, every rejection in line order, and the run's last line.
--
-- Parts of a run never share a member, unless the file names one member two ways: then one
-- part's batch waits for the other's members (locked in member_id order, so never in a
-- cycle). One order named in two parts (a duplicate row of another member) may be written by
-- both at once: the second fails on the order's unique key, and its batch is refused as a
-- conflict to retry (40001); sent again, it finds the order there and rejects the row (or
-- skips it: the same member named two ways).
CREATE OR REPLACE FUNCTION loyalty_import(p_principal text, p_kind text, p_sha256 text,
                                          p_part text, p_dry_run boolean, p_line bigint[],
                                          p_fields text[], p_bad_line bigint[],
                                          p_bad_reason text[],
                                          OUT imported bigint, OUT skipped bigint,
                                          OUT imported_amount_cents bigint,
                                          OUT imported_points bigint, OUT last_line bigint,
                                          OUT rejected_lines bigint[],
                                          OUT rejected_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_run import_runs;
  v_first int;        -- the first row in p_line not done before
  v_rej_lines bigint[] := '{}';
  v_rej_reasons text[] := '{}';
  v_before bigint := 0;
BEGIN
  imported := 0;
  skipped := 0;
  imported_amount_cents := 0;
  imported_points := 0;
  BEGIN  -- a dry run rolls this block back at its end (LY299)
    INSERT INTO import_runs (kind, file_sha256, part, principal)
    VALUES (p_kind, p_sha256, p_part, p_principal) ON CONFLICT DO NOTHING;
    IF FOUND THEN
      PERFORM loyalty_audit(p_principal, 'import', p_kind, '',
                            'file sha256 ' || p_sha256
                            || CASE WHEN p_part <> '' THEN ', part ' || p_part ELSE '' END);
    END IF;
    -- One batch of a run at a time: two loyaltyctl on one file take turns.
    SELECT * INTO STRICT v_run FROM import_runs
    WHERE kind = p_kind AND file_sha256 = p_sha256 AND part = p_part FOR UPDATE;
    PERFORM set_config('loyalty.tier_reason', 'import', true);

    -- Done by an earlier call of this run: skipped, with the rejections it recorded.
    SELECT count(*) INTO v_before FROM unnest(p_line || p_bad_line) l
    WHERE l <= v_run.last_line;
    SELECT coalesce(array_agg(r.line ORDER BY r.line), '{}'),
           coalesce(array_agg(r.reason ORDER BY r.line), '{}')
    INTO rejected_lines, rejected_reasons
    FROM import_rejections r
    WHERE r.run_id = v_run.run_id AND r.line = ANY (p_line || p_bad_line)
      AND r.line <= v_run.last_line;
    v_before := v_before - cardinality(rejected_lines);

    -- Lines come in order (loyaltyd checks): the rows not done before are a tail.
    v_first := coalesce((SELECT min(i) FROM generate_subscripts(p_line, 1) i
                         WHERE p_line[i] > v_run.last_line), cardinality(p_line) + 1);
    CASE p_kind
      WHEN 'stores' THEN
        SELECT * INTO imported, skipped, v_rej_lines, v_rej_reasons
        FROM loyalty_import_stores(v_run, v_first, p_line, p_fields, 0, 0, v_rej_lines,
                                   v_rej_reasons);
      WHEN 'members' THEN
        SELECT * INTO imported, skipped, v_rej_lines, v_rej_reasons
        FROM loyalty_import_members(v_run, v_first, p_line, p_fields, 0, 0, v_rej_lines,
                                    v_rej_reasons);
      WHEN 'balances' THEN
        SELECT * INTO imported, skipped, v_rej_lines, v_rej_reasons, imported_points
        FROM loyalty_import_balances(v_run, v_first, p_line, p_fields, 0, 0, v_rej_lines,
                                     v_rej_reasons, 0);
      WHEN 'orders' THEN
        SELECT * INTO imported, skipped, v_rej_lines, v_rej_reasons, imported_amount_cents,
                      imported_points
        FROM loyalty_import_orders(v_run, v_first, p_line, p_fields, 0, 0, v_rej_lines,
                                   v_rej_reasons, 0, 0);
    END CASE;

    -- loyaltyd's refusals of lines not done before join the rejections of this call.
    SELECT v_rej_lines || coalesce(array_agg(b.l), '{}'),
           v_rej_reasons || coalesce(array_agg(b.r), '{}')
    INTO v_rej_lines, v_rej_reasons
    FROM unnest(p_bad_line, p_bad_reason) AS b(l, r) WHERE b.l > v_run.last_line;
    INSERT INTO import_rejections (run_id, line, reason)
    SELECT v_run.run_id, l, r FROM unnest(v_rej_lines, v_rej_reasons) AS t(l, r);
    last_line := greatest(v_run.last_line, (SELECT max(l) FROM unnest(p_line || p_bad_line) l));
    UPDATE import_runs r
    SET last_line = loyalty_import.last_line, updated_at = now(),
        imported = r.imported + loyalty_import.imported,
        skipped = r.skipped + loyalty_import.skipped,
        rejected = r.rejected + cardinality(v_rej_lines)
    WHERE r.run_id = v_run.run_id;
    IF p_dry_run THEN
      RAISE 'dry run' USING ERRCODE = 'LY299';
    END IF;
  EXCEPTION
    WHEN SQLSTATE 'LY299' THEN
      last_line := v_run.last_line;  -- nothing stays written
    WHEN unique_violation THEN
      RAISE 'a row of this batch was written at the same time by another part of the run'
        USING ERRCODE = '40001', DETAIL = SQLERRM;
  END;
  skipped := skipped + v_before;
  SELECT coalesce(array_agg(l ORDER BY l), '{}'), coalesce(array_agg(r ORDER BY l), '{}')
  INTO rejected_lines, rejected_reasons
  FROM unnest(rejected_lines || v_rej_lines, rejected_reasons || v_rej_reasons) AS t(l, r);
END $$;
