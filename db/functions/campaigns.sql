-- campaigns.sql - campaign combining: what the campaigns running at a moment give an earn.
--
-- When several apply to an earn, the highest multiplier counts (multipliers do not stack)
-- and the bonuses of all of them add up. The multiplier joins the earn formula before its
-- single rounding down; the bonus is added after (earn.sql). Campaigns are created and ended
-- by Admin calls (server/campaigns.c); each change is in the admin audit log.

-- In force at a moment t (the sale's occurred_at, which a late sale has in the past): a
-- campaign whose window covers t (starts_at <= t < ends_at), that had not been ended early
-- by t (ended_at NULL or after t), and that existed at t (created_at <= t). The last makes a
-- late sale earn exactly what it would have earned had it arrived on time: a campaign HQ
-- creates afterwards with a window reaching back does not reward sales made before anyone
-- knew of it, on time or late, and ending one early takes nothing from the sales before.

-- The campaigns in force at p_at for an earn at store p_store_id by a member of tier p_tier
-- (before the purchase; none counts as ordinary): the highest multiplier (1000 when none),
-- the sum of the bonuses, their names for the receipt and their ids (ascending; the ledger
-- keeps them with the earn, so a campaign's cost is exact: report_points.sql).
-- One row. (An SQL function returning a table: the planner inlines it into loyalty_earn_write's
-- one statement, planned once for all its rows.)
CREATE OR REPLACE FUNCTION loyalty_campaign_effect(p_store_id int, p_tier smallint,
                                                   p_at timestamptz)
RETURNS TABLE (permille int, bonus bigint, names text, ids int[])
LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(c.multiplier_permille), 1000), coalesce(sum(c.bonus_points), 0)::bigint,
         coalesce(string_agg(c.name, ', ' ORDER BY c.campaign_id), ''),
         coalesce(array_agg(c.campaign_id ORDER BY c.campaign_id), '{}')
  FROM campaigns c LEFT JOIN stores s ON s.store_id = p_store_id
  WHERE p_at >= c.starts_at AND p_at < c.ends_at
    AND (c.ended_at IS NULL OR c.ended_at > p_at) AND c.created_at <= p_at
    AND (cardinality(c.store_codes) = 0 OR s.store_code = ANY (c.store_codes))
    AND (cardinality(c.channels) = 0 OR s.channel = ANY (c.channels))
    AND (cardinality(c.tiers) = 0 OR greatest(p_tier, 1::smallint) = ANY (c.tiers))
$$;
