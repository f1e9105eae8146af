-- Movements as loyaltyd's event loop sends them (server/dbloop.c): the movements of many
-- calls pipelined in one transaction, one commit for all. An error in one must not end the
-- others (in a pipeline, the statements after an error are skipped up to the next sync), so
-- each movement runs in a subtransaction of its own (a PL/pgSQL exception block) and its
-- error comes back as three columns: error_state (its SQLSTATE), error_message and
-- error_detail (NULL when it went through).
-- loyaltyd puts at most 64 in a transaction: PostgreSQL keeps 64 subtransactions a backend
-- in shared memory, and more slow every snapshot down.
--
-- p_args are the movement function's parameters as text, in its order; the casts below
-- are the only place they are typed.

CREATE OR REPLACE FUNCTION loyalty_try_move(p_kind text, p_args text[],
                                            OUT txn_id bigint, OUT points bigint,
                                            OUT balance bigint, OUT tier smallint,
                                            OUT tier_changed boolean, OUT replayed boolean,
                                            OUT explanation text, OUT pending_points bigint,
                                            OUT release_on date, OUT error_state text,
                                            OUT error_message text, OUT error_detail text)
LANGUAGE plpgsql AS $$
DECLARE
  r points_result;
BEGIN
  CASE p_kind
  WHEN 'earn' THEN
    SELECT e.txn_id, e.points, e.balance, e.tier, e.tier_changed, e.replayed, e.explanation,
           e.pending_points, e.release_on
      INTO txn_id, points, balance, tier, tier_changed, replayed, explanation,
           pending_points, release_on
      FROM loyalty_earn(p_args[1], p_args[2], p_args[3], p_args[4]::bytea, p_args[5]::bigint,
                        p_args[6], p_args[7]::bigint, p_args[8]::timestamptz) e;
    RETURN;
  WHEN 'redeem' THEN
    r := loyalty_redeem(p_args[1], p_args[2], p_args[3], p_args[4]::bytea, p_args[5]::bigint,
                        p_args[6]::bigint, p_args[7], p_args[8]);
  WHEN 'refund' THEN
    r := loyalty_refund(p_args[1], p_args[2], p_args[3], p_args[4]::bytea, p_args[5]::bigint,
                        p_args[6]::bigint, p_args[7], p_args[8], p_args[9]::bigint,
                        p_args[10]::timestamptz);
  WHEN 'cancel_redemption' THEN
    r := loyalty_cancel_redemption(p_args[1], p_args[2], p_args[3], p_args[4]::bytea,
                                   p_args[5]::bigint, p_args[6]::bigint);
  WHEN 'adjust' THEN
    r := loyalty_adjust(p_args[1], p_args[2], p_args[3], p_args[4]::bytea, p_args[5]::bigint,
                        p_args[6]::bigint, p_args[7]);
  END CASE;
  txn_id := r.txn_id;
  points := r.points;
  balance := r.balance;
  tier := r.tier;
  tier_changed := r.tier_changed;
  replayed := r.replayed;
  pending_points := 0;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                          error_detail = PG_EXCEPTION_DETAIL;
END $$;

-- loyalty_earn_batch (earn.sql) in a subtransaction: its rows, or, when it refuses or fails
-- (a retry, an earned order, a race on a unique index...), one row with the error, nothing
-- written. loyaltyd then sends each of its earns alone through loyalty_try_move.
CREATE OR REPLACE FUNCTION loyalty_try_earn_batch(p_principal text[], p_store_code text[],
                                                  p_request_id text[], p_hash bytea[],
                                                  p_member_id bigint[], p_order_id text[],
                                                  p_amount_cents bigint[],
                                                  p_occurred_at timestamptz[])
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text,
               pending_points bigint, release_on date, error_state text, error_message text,
               error_detail text)
LANGUAGE plpgsql AS $$
DECLARE
  v_state text;
  v_message text;
  v_detail text;
BEGIN
  -- loyalty_earn_batch returns its rows only once it has written them all, so an error
  -- leaves no row of the batch behind (and loyaltyd treats a batch with an error row as
  -- failed as a whole anyway).
  RETURN QUERY SELECT b.*, NULL::text, NULL::text, NULL::text
    FROM loyalty_earn_batch(p_principal, p_store_code, p_request_id, p_hash, p_member_id,
                            p_order_id, p_amount_cents, p_occurred_at) b;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                          v_detail = PG_EXCEPTION_DETAIL;
  RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::smallint, NULL::boolean,
                      NULL::boolean, NULL::text, NULL::bigint, NULL::date, v_state, v_message,
                      v_detail;
END $$;
