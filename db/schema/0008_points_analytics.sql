-- 0008_points_analytics.sql - what finance's reports need (db/functions/report_points.sql;
-- docs/analytics.md): an earn's campaign points apart, and what a point is worth.
--
-- An earn records the points its campaigns added (campaign_points: the points beyond what the
-- same earn would have made with no campaign, multiplier and bonuses together) and which
-- campaigns were in force for it (campaign_ids, ascending), so a campaign's cost is exact;
-- its base points are the earn's points (or pending points) minus campaign_points. Rows
-- from before this file, and every row that is not an earn under a campaign, have the
-- defaults, which the hash chain leaves out (loyalty_ledger_canonical): they hash as they did.
ALTER TABLE ledger ADD COLUMN campaign_points bigint NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN campaign_ids int[] NOT NULL DEFAULT '{}';

-- What one point is worth when redeemed, in thousandths of a cent (a point is often worth
-- less than a cent): the liability's value. Default 1,000: a point is one cent (100 points
-- make a yuan). Up to 100,000 (a yuan a point).
ALTER TABLE program ADD COLUMN point_value_millicents int NOT NULL DEFAULT 1000
  CHECK (point_value_millicents BETWEEN 0 AND 100000);

-- The redemptions and their cancellations by when they happened (cross-store settlement of a
-- period). Partial: an earn's insert only tests the predicate; only a redemption or a
-- cancellation pays for it. No other index: every index on ledger or lots is paid on each
-- earn. The liability reads the whole ledger once anyway (an opening balance is every
-- movement before the period); the campaign report reads earns by occurred_at through
-- ledger_earn_occurred (0006).
CREATE INDEX ledger_redemptions ON ledger (occurred_at)
  WHERE kind IN ('redeem', 'cancel_redemption');
