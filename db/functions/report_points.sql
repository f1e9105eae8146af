-- report_points.sql - HQ's reports on points (docs/analytics.md): the points liability of a
-- period, cross-store settlement, a campaign's cost. Time follows reports.sql: a movement
-- counts when it happened (occurred_at) by the end of as_of in the program's time zone and
-- was recorded (created_at) by known_at.
--
-- Balances at a past date come from the ledger, never from today's lots: a member's balance
-- at D is the sum of the points of its ledger rows that happened by D, and what its lots
-- hold then is greatest(balance, 0) (the lots invariant, lots.sql). Integer arithmetic
-- throughout; values in cents are rounded half away from zero (loyalty_points_cents).

-- The value in cents of p_points at p_millicents a point (thousandths of a cent): rounded to
-- the nearest cent, halves away from zero. bigint: exact up to 9 x 10^13 points at the
-- largest point value.
CREATE OR REPLACE FUNCTION loyalty_points_cents(p_points bigint, p_millicents int)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (p_points * p_millicents + sign(p_points)::bigint * 500) / 1000
$$;

-- The liability of the period p_from .. p_as_of (local dates, both included), as known at
-- p_known_at. In points; movements signed as they move balances:
--   opening, closing       what the lots hold at the period's start and end: the sum over
--                          members of greatest(balance, 0)
--   earned                 earns credited at once and releases of pending earns
--   imported               opening balances and the points of imported purchases
--   adjusted, cancelled (redemptions given back), redeemed, refunded (clawed back by
--   refunds, imported ones too), expired, merged (merge_out and merge_in: 0 once both are in)
--   other                  any other kind of row (none today: the equation stays honest)
--   opening_owed, closing_owed   points owed by members with a negative balance (positive)
--   opening_pending, closing_pending   pending points, not yet in any balance
-- So: opening + the movements + (closing_owed - opening_owed) = closing.
-- The trailing 12 months (reports.sql: the last 12 months as of p_as_of), for breakage:
--   expired_12m            points expired in them
--   redeemed_12m           points redeemed in them, less cancellations in them
-- And point_value_millicents, the program's at the end of the period.
-- One pass over the ledger, grouped by member.
CREATE OR REPLACE FUNCTION loyalty_report_liability(p_from date, p_as_of date,
                                                    p_known_at timestamptz)
RETURNS TABLE (opening bigint, earned bigint, imported bigint, adjusted bigint,
               cancelled bigint, redeemed bigint, refunded bigint, expired bigint,
               merged bigint, other bigint, closing bigint, opening_owed bigint,
               closing_owed bigint, opening_pending bigint, closing_pending bigint,
               expired_12m bigint, redeemed_12m bigint, point_value_millicents int)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, p_from::timestamp AT TIME ZONE r.time_zone AS period_start,
           loyalty_report_months_from(p_as_of, 12)::timestamp AT TIME ZONE r.time_zone
             AS trailing_start
    FROM loyalty_report_bounds(p_as_of, p_known_at) r
  ), rows AS (
    SELECT l.member_id, l.points, l.pending_points, l.occurred_at >= b.period_start AS moved,
           l.occurred_at >= b.trailing_start AS trailing,
           CASE WHEN l.kind IN ('earn', 'release') AND l.request_id NOT LIKE 'import %'
                  THEN 'earned'
                WHEN l.kind IN ('earn', 'opening') THEN 'imported'
                WHEN l.kind = 'adjustment' THEN 'adjusted'
                WHEN l.kind = 'cancel_redemption' THEN 'cancelled'
                WHEN l.kind = 'redeem' THEN 'redeemed'
                WHEN l.kind = 'refund' THEN 'refunded'
                WHEN l.kind = 'expiry' THEN 'expired'
                WHEN l.kind IN ('merge_out', 'merge_in') THEN 'merged'
                ELSE 'other' END AS line
    FROM b JOIN ledger l ON l.occurred_at < b.occurred_before AND l.created_at <= b.known_at
  ), per_member AS (
    SELECT sum(r.points) FILTER (WHERE NOT r.moved) AS open_balance,
           sum(r.points) AS close_balance,
           sum(r.pending_points) FILTER (WHERE NOT r.moved) AS open_pending,
           sum(r.pending_points) AS close_pending,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'earned') AS earned,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'imported') AS imported,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'adjusted') AS adjusted,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'cancelled') AS cancelled,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'redeemed') AS redeemed,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'refunded') AS refunded,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'expired') AS expired,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'merged') AS merged,
           sum(r.points) FILTER (WHERE r.moved AND r.line = 'other') AS other,
           sum(-r.points) FILTER (WHERE r.trailing AND r.line = 'expired') AS expired_12m,
           sum(-r.points) FILTER (WHERE r.trailing AND r.line IN ('redeemed', 'cancelled'))
             AS redeemed_12m
    FROM rows r GROUP BY r.member_id
  )
  SELECT coalesce(sum(greatest(open_balance, 0)), 0)::bigint,
         coalesce(sum(earned), 0)::bigint, coalesce(sum(imported), 0)::bigint,
         coalesce(sum(adjusted), 0)::bigint, coalesce(sum(cancelled), 0)::bigint,
         coalesce(sum(redeemed), 0)::bigint, coalesce(sum(refunded), 0)::bigint,
         coalesce(sum(expired), 0)::bigint, coalesce(sum(merged), 0)::bigint,
         coalesce(sum(other), 0)::bigint,
         coalesce(sum(greatest(close_balance, 0)), 0)::bigint,
         coalesce(sum(greatest(-open_balance, 0)), 0)::bigint,
         coalesce(sum(greatest(-close_balance, 0)), 0)::bigint,
         coalesce(sum(open_pending), 0)::bigint, coalesce(sum(close_pending), 0)::bigint,
         coalesce(sum(expired_12m), 0)::bigint, coalesce(sum(redeemed_12m), 0)::bigint,
         (SELECT (loyalty_program_at(b.occurred_before)).point_value_millicents FROM b)
  FROM per_member
$$;

-- The merges that happened by p_occurred_before and were recorded by p_known_at: each
-- merged member with the member its points were in then (the end of its chain of merges).
CREATE OR REPLACE FUNCTION loyalty_report_merges_by(p_occurred_before timestamptz,
                                                    p_known_at timestamptz)
RETURNS TABLE (member_id bigint, person_id bigint)
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE known AS (
    SELECT m.member_id, m.merged_into AS kept
    FROM members m JOIN ledger o ON o.member_id = m.member_id AND o.kind = 'merge_out'
    WHERE m.merged_into IS NOT NULL AND o.occurred_at < p_occurred_before
      AND o.created_at <= p_known_at
  ), chain (member_id, person_id, depth) AS (
    SELECT k.member_id, k.kept, 1 FROM known k
    UNION ALL
    SELECT c.member_id, k.kept, c.depth + 1
    FROM chain c JOIN known k ON k.member_id = c.person_id
    WHERE c.depth < 64
  )
  SELECT DISTINCT ON (c.member_id) c.member_id, c.person_id
  FROM chain c ORDER BY c.member_id, c.depth DESC
$$;

-- The closing of loyalty_report_liability by the year its points expire (0: never), as of
-- p_as_of as known at p_known_at. The ledger says how many points each member holds then,
-- not which lots hold them (refunds, expiry and negative adjustments do not record the lots
-- they took), so they are placed: a member's points at the date sit in its lots of then
-- (lots made by a movement by then, the lots of members merged into it by then included)
-- that expire last, each lot up to its points, since points leave the lots expiring first.
-- Exact where every take followed that order; a refund takes its own purchase's lot first
-- and a cancelled redemption gives points back to the lots it drew from, which can move
-- points between years here. Sums to the closing.
CREATE OR REPLACE FUNCTION loyalty_report_liability_years(p_as_of date,
                                                          p_known_at timestamptz)
RETURNS TABLE (expiry_year int, points bigint)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT * FROM loyalty_report_bounds(p_as_of, p_known_at)
  ), merges AS (
    SELECT g.* FROM b, loyalty_report_merges_by(b.occurred_before, b.known_at) g
  ), held AS (  -- each holder's points at the date (merged members hold 0 after the merge)
    SELECT coalesce(g.person_id, l.member_id) AS holder, sum(l.points) AS balance
    FROM b JOIN ledger l ON l.occurred_at < b.occurred_before AND l.created_at <= b.known_at
    LEFT JOIN merges g ON g.member_id = l.member_id
    GROUP BY 1 HAVING sum(l.points) > 0
  ), lots_then AS (
    SELECT coalesce(g.person_id, o.member_id) AS holder, lo.lot_id, lo.points,
           CASE WHEN lo.expires_on = 'infinity' THEN 0
                ELSE extract(year FROM lo.expires_on)::int END AS expiry_year,
           lo.expires_on
    FROM b JOIN ledger o ON o.occurred_at < b.occurred_before AND o.created_at <= b.known_at
    JOIN lots lo ON lo.txn_id = o.txn_id
    LEFT JOIN merges g ON g.member_id = o.member_id
  ), placed AS (
    SELECT t.holder, t.expiry_year, t.points,
           coalesce(sum(t.points) OVER (PARTITION BY t.holder
                                        ORDER BY t.expires_on DESC, t.lot_id DESC
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
             AS after
    FROM lots_then t WHERE t.holder IN (SELECT holder FROM held)
  )
  SELECT p.expiry_year, sum(least(p.points, greatest(h.balance - p.after, 0)))::bigint
  FROM placed p JOIN held h USING (holder)
  GROUP BY p.expiry_year HAVING sum(least(p.points, greatest(h.balance - p.after, 0))) > 0
  ORDER BY p.expiry_year = 0, p.expiry_year
$$;

-- Cross-store settlement of the period p_from .. p_as_of, as known at p_known_at: points
-- redeemed at a store (redeemed_at) drawn from lots earned at a store (earned_at), from
-- redemption_lots: a redemption in the period adds what it drew from each lot; a
-- cancellation in the period subtracts what its redemption drew, on the cancellation's own
-- date, from the redemption's cell. A lot's store is its movement's: the earn's (a released
-- pending earn's lot: the earn's store), an adjustment's or imported opening balance's,
-- usually none. No store (NULL) is HQ, on either side. Cells with 0 points are left out.
CREATE OR REPLACE FUNCTION loyalty_report_settlement(p_from date, p_as_of date,
                                                     p_known_at timestamptz)
RETURNS TABLE (earned_at int, redeemed_at int, points bigint)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, p_from::timestamp AT TIME ZONE r.time_zone AS period_start
    FROM loyalty_report_bounds(p_as_of, p_known_at) r
  ), drawn AS (
    SELECT rd.store_id AS redeemed_at, rl.lot_id,
           CASE WHEN x.kind = 'redeem' THEN rl.points ELSE -rl.points END AS points
    FROM b JOIN ledger x ON x.kind IN ('redeem', 'cancel_redemption')
                        AND x.occurred_at >= b.period_start
                        AND x.occurred_at < b.occurred_before AND x.created_at <= b.known_at
    JOIN ledger rd ON rd.txn_id = CASE WHEN x.kind = 'redeem' THEN x.txn_id
                                       ELSE x.ref_txn_id END
    JOIN redemption_lots rl ON rl.redeem_txn_id = rd.txn_id
  )
  SELECT coalesce(e.store_id, o.store_id), d.redeemed_at, sum(d.points)::bigint
  FROM drawn d JOIN lots lo USING (lot_id) JOIN ledger o ON o.txn_id = lo.txn_id
  LEFT JOIN ledger e ON o.kind = 'release' AND e.txn_id = o.ref_txn_id
  GROUP BY 1, 2 HAVING sum(d.points) <> 0
  ORDER BY 1 NULLS FIRST, 2 NULLS FIRST
$$;

-- Each party's net position in a settlement (loyalty_report_settlement's cells): owed_to =
-- points of other parties' lots redeemed at it (the discounts it gave for them), owed_by =
-- points of its lots redeemed at other parties; net = owed_to - owed_by (above 0: it is
-- owed). NULL is HQ. Points redeemed where they were earned are no one's debt.
CREATE OR REPLACE FUNCTION loyalty_report_settlement_positions(p_from date, p_as_of date,
                                                               p_known_at timestamptz)
RETURNS TABLE (party int, owed_to bigint, owed_by bigint, net bigint)
LANGUAGE sql STABLE AS $$
  WITH cells AS MATERIALIZED (
    SELECT * FROM loyalty_report_settlement(p_from, p_as_of, p_known_at) c
    WHERE c.earned_at IS DISTINCT FROM c.redeemed_at
  ), sides AS (
    SELECT c.redeemed_at AS party, c.points AS owed_to, 0::bigint AS owed_by FROM cells c
    UNION ALL
    SELECT c.earned_at, 0, c.points FROM cells c
  )
  SELECT s.party, sum(s.owed_to)::bigint, sum(s.owed_by)::bigint,
         sum(s.owed_to - s.owed_by)::bigint
  FROM sides s GROUP BY s.party ORDER BY s.party NULLS FIRST
$$;

-- A campaign's cost as of p_as_of, as known at p_known_at: the earns it was in force for
-- (ledger.campaign_ids, 0007), which happened in its window by as_of:
--   members        the people who made them (merges known at known_at followed)
--   purchases, sales_cents   how many, their amount
--   net_sales_cents          their amount less the refunds made by as_of
--   base_points    what they would have earned with no campaign (points or pending points
--                  less campaign_points)
--   extra_points   what this campaign added: its bonus on each, and, on the earns where its
--                  multiplier was the one counted (the highest in force; equal highest: the
--                  lowest campaign id), the multiplier's points (campaign_points less every
--                  bonus of the earn). Exact; as given, before any refund.
--   shared_purchases   of the earns, those with other campaigns in force too
--   all_campaign_points   campaign_points of the earns, every campaign's together
-- Refunds take points back in proportion of the whole earn (refund.sql): extra points are
-- reported as given.
CREATE OR REPLACE FUNCTION loyalty_report_campaign(p_campaign_id int, p_as_of date,
                                                   p_known_at timestamptz)
RETURNS TABLE (members bigint, purchases bigint, sales_cents bigint, net_sales_cents bigint,
               base_points bigint, extra_points bigint, shared_purchases bigint,
               all_campaign_points bigint)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, c.starts_at, least(c.ends_at, c.ended_at, r.occurred_before) AS window_end,
           c.bonus_points, c.campaign_id
    FROM loyalty_report_bounds(p_as_of, p_known_at) r, campaigns c
    WHERE c.campaign_id = p_campaign_id
  ), earns AS (
    SELECT e.txn_id, e.member_id, e.amount_cents, e.points + e.pending_points AS total,
           e.campaign_points, e.campaign_ids,
           b.bonus_points
             + CASE WHEN k.counted = b.campaign_id
                    THEN e.campaign_points - k.bonuses ELSE 0 END AS extra
    FROM b JOIN ledger e ON e.kind = 'earn' AND e.occurred_at >= b.starts_at
                        AND e.occurred_at < b.window_end AND e.created_at <= b.known_at
                        AND b.campaign_id = ANY (e.campaign_ids)
    CROSS JOIN LATERAL (
      SELECT sum(c.bonus_points) AS bonuses,
             (array_agg(c.campaign_id ORDER BY c.multiplier_permille DESC, c.campaign_id)
               FILTER (WHERE c.multiplier_permille > 1000))[1] AS counted
      FROM campaigns c WHERE c.campaign_id = ANY (e.campaign_ids)) k
  ), refunded AS (
    SELECT f.ref_txn_id, sum(f.amount_cents) AS cents
    FROM b JOIN ledger f ON f.kind = 'refund' AND f.occurred_at < b.occurred_before
                        AND f.created_at <= b.known_at
    WHERE f.ref_txn_id IN (SELECT txn_id FROM earns)
    GROUP BY f.ref_txn_id
  )
  SELECT count(DISTINCT coalesce(g.person_id, e.member_id)), count(*),
         coalesce(sum(e.amount_cents), 0)::bigint,
         coalesce(sum(e.amount_cents - coalesce(f.cents, 0)), 0)::bigint,
         coalesce(sum(e.total - e.campaign_points), 0)::bigint,
         coalesce(sum(e.extra), 0)::bigint,
         count(*) FILTER (WHERE cardinality(e.campaign_ids) > 1),
         coalesce(sum(e.campaign_points), 0)::bigint
  FROM earns e
  LEFT JOIN refunded f ON f.ref_txn_id = e.txn_id
  LEFT JOIN loyalty_report_merges(p_known_at) g ON g.member_id = e.member_id
$$;
