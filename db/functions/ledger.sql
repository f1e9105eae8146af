-- ledger.sql - the append-only ledger and its hash chains.
--
-- Each member's ledger rows form a chain: row_hash = SHA-256(prev_hash || canonical row),
-- prev_hash being the row_hash of the member's previous row (empty for the first); the
-- member's latest row_hash is members.ledger_head, moved in the same transaction under the
-- member's row lock, so appending takes no global lock. Admin.VerifyAudit (server/audit.c)
-- recomputes every chain from loyalty_ledger_canonical with OpenSSL.

-- One field of a canonical row: its length, ':' and its text.
CREATE OR REPLACE FUNCTION loyalty_field(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT length(p)::text || ':' || p $$;

-- The canonical content of a ledger row, hashed into its member's chain: every field but
-- the hashes, each as its length, ':' and its text, so that no two rows share one.
-- (STABLE, as to_char is: so the planner inlines it where it is called.) Fields added to the
-- ledger later are appended only where they differ from their default, so older rows hash
-- as they did.
CREATE OR REPLACE FUNCTION loyalty_ledger_canonical(l ledger) RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT convert_to(concat_ws(';',
    loyalty_field(l.txn_id::text), loyalty_field(l.member_id::text), loyalty_field(l.kind),
    loyalty_field(l.points::text), loyalty_field(l.amount_cents::text),
    loyalty_field(coalesce(l.store_id::text, '')), loyalty_field(l.principal),
    loyalty_field(l.request_id), loyalty_field(l.order_id), loyalty_field(l.reason),
    loyalty_field(coalesce(l.ref_txn_id::text, '')), loyalty_field(l.balance_after::text),
    loyalty_field(l.tier_after::text),
    loyalty_field(to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')),
    -- When it happened, only where that is not when it was recorded: rows from before
    -- business time hash as they did.
    CASE WHEN l.occurred_at <> l.created_at
         THEN loyalty_field(to_char(l.occurred_at AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.US')) END,
    -- Pending points, only where there are some: rows without hash as they did.
    CASE WHEN l.pending_points <> 0
         THEN 'pending=' || loyalty_field(l.pending_points::text) END,
    -- An earn's campaign points and campaigns (0007), only where there are some.
    CASE WHEN l.campaign_points <> 0
         THEN 'campaign=' || loyalty_field(l.campaign_points::text) END,
    CASE WHEN cardinality(l.campaign_ids) > 0
         THEN 'campaigns=' || loyalty_field(array_to_string(l.campaign_ids, ',')) END),
    'UTF8')
$$;

-- A ledger row describing a movement, for loyalty_move to append (named arguments: a column
-- added later gets a parameter with a default, and no caller changes).
CREATE OR REPLACE FUNCTION loyalty_ledger_row(p_kind text, p_points bigint,
                                              p_balance_after bigint, p_tier_after smallint,
                                              p_principal text, p_request_id text,
                                              p_store_id int DEFAULT NULL,
                                              p_amount_cents bigint DEFAULT 0,
                                              p_order_id text DEFAULT '',
                                              p_reason text DEFAULT '',
                                              p_ref_txn_id bigint DEFAULT NULL,
                                              p_occurred_at timestamptz DEFAULT NULL,
                                              p_pending_points bigint DEFAULT 0,
                                              p_campaign_points bigint DEFAULT 0,
                                              p_campaign_ids int[] DEFAULT '{}')
RETURNS ledger
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v ledger;
BEGIN
  v.kind := p_kind;
  v.points := p_points;
  v.balance_after := p_balance_after;
  v.tier_after := p_tier_after;
  v.principal := p_principal;
  v.request_id := p_request_id;
  v.store_id := p_store_id;
  v.amount_cents := p_amount_cents;
  v.order_id := p_order_id;
  v.reason := p_reason;
  v.ref_txn_id := p_ref_txn_id;
  v.occurred_at := p_occurred_at;  -- NULL: now, when it is recorded
  v.pending_points := p_pending_points;
  v.campaign_points := p_campaign_points;
  v.campaign_ids := p_campaign_ids;
  RETURN v;
END $$;

-- p_row, a movement of p_member (locked by the caller, as it was before the movement), made
-- the next link of the member's chain: its txn_id, member, time (and the time it happened,
-- if not given: now), prev_hash (the member's head) and row_hash. The one place a ledger row gets its hash; written by
-- loyalty_append_ledger, or set-wise by loyalty_earn_write (earn.sql). Whoever updates the
-- member sets ledger_head to its row_hash.
CREATE OR REPLACE FUNCTION loyalty_chain_row(p_member members, p_row ledger) RETURNS ledger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  p_row.txn_id := nextval('ledger_txn_id_seq');
  p_row.member_id := p_member.member_id;
  p_row.created_at := now();
  p_row.occurred_at := coalesce(p_row.occurred_at, p_row.created_at);
  p_row.prev_hash := coalesce(p_member.ledger_head, '');
  p_row.row_hash := sha256(p_row.prev_hash || loyalty_ledger_canonical(p_row));
  RETURN p_row;
END $$;

-- Appends a movement of p_member (locked, as it was before) to the ledger. Returns the row
-- as written. (PL/pgSQL: its plan is kept for the session.)
CREATE OR REPLACE FUNCTION loyalty_append_ledger(p_member members, p_row ledger)
RETURNS ledger
LANGUAGE plpgsql AS $$
BEGIN
  p_row := loyalty_chain_row(p_member, p_row);
  INSERT INTO ledger SELECT p_row.*;
  RETURN p_row;
END $$;

-- The trigger function that keeps the ledger and the audit trails append-only
-- (triggers.sql): rows are inserted, never changed or removed, whoever asks.
CREATE OR REPLACE FUNCTION loyalty_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE 'the % table is append-only', TG_TABLE_NAME USING ERRCODE = 'LY403', DETAIL = TG_OP;
END $$;

-- A points movement of p_member (locked, as it was before): appends p_row and moves the
-- member's running state with it in one UPDATE: balance and tier to the row's balance_after
-- and tier_after, pending points by the row's pending_points, net spend by
-- p_spend_delta_cents, the chain head; a movement that makes a purchase count (a release,
-- pending.sql) gives the purchase's moment, p_purchase_at, which may be the first purchase.
-- Lots are the caller's (lots.sql). Returns the row as written.
CREATE OR REPLACE FUNCTION loyalty_move(p_member members, p_row ledger,
                                        p_spend_delta_cents bigint,
                                        p_purchase_at timestamptz DEFAULT NULL) RETURNS ledger
LANGUAGE plpgsql AS $$
BEGIN
  p_row := loyalty_append_ledger(p_member, p_row);
  UPDATE members
  SET balance = p_row.balance_after, tier = p_row.tier_after, ledger_head = p_row.row_hash,
      pending_points = pending_points + p_row.pending_points,
      lifetime_spend_cents = lifetime_spend_cents + p_spend_delta_cents,
      first_purchase_at = least(first_purchase_at, p_purchase_at)  -- least() skips NULLs
  WHERE member_id = p_member.member_id;
  RETURN p_row;
END $$;
