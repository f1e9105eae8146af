-- 0015_campaigns.sql - campaigns: a multiplier (双11 on Tmall x3) or a fixed bonus for a
-- window of time, optionally only at some stores, channels or tiers.
--
-- Combining: when several apply to an earn, the highest multiplier counts (multipliers do
-- not stack), and the bonuses of all of them add up. The multiplier joins the earn formula
-- before its single rounding down; the bonus is added after.
CREATE TABLE campaigns (
  campaign_id         serial PRIMARY KEY,
  name                text NOT NULL,
  multiplier_permille int NOT NULL DEFAULT 1000 CHECK (multiplier_permille BETWEEN 1000 AND 10000),
  bonus_points        bigint NOT NULL DEFAULT 0 CHECK (bonus_points BETWEEN 0 AND 1000000),
  starts_at           timestamptz NOT NULL,
  ends_at             timestamptz NOT NULL,  -- exclusive
  store_codes         text[] NOT NULL DEFAULT '{}',      -- empty: every store
  channels            smallint[] NOT NULL DEFAULT '{}',  -- empty: every channel
  tiers               smallint[] NOT NULL DEFAULT '{}',  -- empty: every tier
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  ended_at            timestamptz,                       -- ended early by HQ
  CHECK (ends_at > starts_at),
  CHECK (multiplier_permille > 1000 OR bonus_points > 0)
);
CREATE INDEX campaigns_live ON campaigns (ends_at) WHERE ended_at IS NULL;

-- What the campaigns running at p_at give an earn at store p_store_id by a member of tier
-- p_tier (before the purchase; none counts as ordinary).
CREATE FUNCTION loyalty_campaign_effect(p_store_id int, p_tier smallint, p_at timestamptz,
                                        OUT permille int, OUT bonus bigint, OUT names text)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(c.multiplier_permille), 1000), coalesce(sum(c.bonus_points), 0)::bigint,
         coalesce(string_agg(c.name, ', ' ORDER BY c.campaign_id), '')
  FROM campaigns c LEFT JOIN stores s ON s.store_id = p_store_id
  WHERE c.ended_at IS NULL AND p_at >= c.starts_at AND p_at < c.ends_at
    AND (cardinality(c.store_codes) = 0 OR s.store_code = ANY (c.store_codes))
    AND (cardinality(c.channels) = 0 OR s.channel = ANY (c.channels))
    AND (cardinality(c.tiers) = 0 OR greatest(p_tier, 1::smallint) = ANY (c.tiers))
$$;

-- The points of an earn: whole yuan x points per yuan x tier x birthday month x campaign,
-- rounded down once, plus the campaigns' bonus; nothing under the minimum paid amount.
-- numeric: exact, and no overflow at the largest amounts and multipliers.
CREATE FUNCTION loyalty_campaign_points(p_amount_cents bigint, p_tier smallint, p_birthday date,
                                        p_today date, p program, p_permille int, p_bonus bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_amount_cents < p.min_paid_cents THEN 0
         ELSE div((p_amount_cents / 100)::numeric * p.points_per_yuan
                  * loyalty_tier_permille(p_tier, p)
                  * CASE WHEN extract(month FROM p_birthday) = extract(month FROM p_today)
                         THEN p.birthday_multiplier ELSE 1 END
                  * p_permille, 1000000)::bigint + p_bonus END
$$;

-- How an earn's points were made, for the receipt; kept as the earn's ledger reason.
CREATE FUNCTION loyalty_earn_explanation(p_amount_cents bigint, p_tier smallint,
                                         p_birthday date, p_today date, p program,
                                         p_permille int, p_bonus bigint, p_names text,
                                         p_points bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_amount_cents < p.min_paid_cents
    THEN format('%s points: under the minimum paid amount', p_points)
    ELSE concat_ws(' ',
      format('%s points: %s yuan x %s per yuan', p_points, p_amount_cents / 100,
             p.points_per_yuan),
      CASE WHEN loyalty_tier_permille(p_tier, p) <> 1000
           THEN format('x %s tier', trim_scale(loyalty_tier_permille(p_tier, p) / 1000.0)) END,
      CASE WHEN extract(month FROM p_birthday) = extract(month FROM p_today)
           THEN format('x %s birthday month', p.birthday_multiplier) END,
      CASE WHEN p_permille <> 1000
           THEN format('x %s campaign', trim_scale(p_permille / 1000.0)) END,
      CASE WHEN p_bonus > 0 THEN format('+ %s bonus', p_bonus) END,
      CASE WHEN p_names <> '' THEN format('(%s)', p_names) END)
  END
$$;

GRANT SELECT, INSERT, UPDATE ON campaigns TO loyalty_server;
GRANT USAGE ON SEQUENCE campaigns_campaign_id_seq TO loyalty_server;

-- Earn with its explanation: loyalty_earn, then the reason its ledger row was given (read in
-- a statement of its own, which sees the row the earn wrote).
CREATE FUNCTION loyalty_earn_explained(p_principal text, p_store_code text, p_request_id text,
                                       p_hash bytea, p_member_id bigint, p_order_id text,
                                       p_amount_cents bigint)
RETURNS TABLE (txn_id bigint, points bigint, balance bigint, tier smallint,
               tier_changed boolean, replayed boolean, explanation text)
LANGUAGE plpgsql AS $$
DECLARE
  r points_result := loyalty_earn(p_principal, p_store_code, p_request_id, p_hash, p_member_id,
                                  p_order_id, p_amount_cents);
BEGIN
  RETURN QUERY SELECT r.txn_id, r.points, r.balance, r.tier, r.tier_changed, r.replayed,
                      l.reason FROM ledger l WHERE l.txn_id = r.txn_id;
END $$;
