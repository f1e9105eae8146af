-- tiers: the tier rule (db/functions/tiers.sql).
-- By net spend (purchases minus refunds) against the program's thresholds: 0 before the first
-- purchase, then ordinary (1), senior (2) from 500 yuan, VIP (3) from 3,000, supreme (4) from
-- 8,000. The spend counted is the tier policy's: lifetime (all of it) or rolling (the last 12
-- months). A purchase never lowers a tier (the higher of the current one and the spend's); a
-- refund never raises one (the lower of the two), never below ordinary. HQ may set a tier;
-- the yearly review moves a member whose tier is above the spend's down one tier, no more.
-- Every change is in tier_changes with its reason.
\set VERBOSITY terse
INSERT INTO stores (store_code, name, channel) VALUES ('S1', 'store one', 1);
-- A member row as loyalty_tier_after sees it: its tier and lifetime net spend. (Member 0 has
-- no ledger rows: its rolling spend is 0.)
CREATE FUNCTION member_at(p_tier int, p_spend bigint) RETURNS members
LANGUAGE plpgsql AS $$
DECLARE
  m members;
BEGIN
  m.member_id := 0;
  m.tier := p_tier;
  m.lifetime_spend_cents := p_spend;
  RETURN m;
END $$;
-- What GetBalance shows (server/points.c): tier, spend, next tier and spend still needed.
CREATE FUNCTION balance_of(p_name text) RETURNS TABLE (tier smallint, lifetime_spend bigint,
  policy_spend bigint, next_tier smallint, spend_to_next bigint)
LANGUAGE sql AS $$
  SELECT m.tier, m.lifetime_spend_cents, loyalty_policy_spend(m, p, now()), n.*
  FROM members m CROSS JOIN program p
  CROSS JOIN loyalty_next_tier(m.tier, loyalty_policy_spend(m, p, now()), p) n
  WHERE m.name = p_name
$$;
SELECT tier_policy, senior_threshold_cents, vip_threshold_cents, supreme_threshold_cents
FROM program;

-- 1. loyalty_tier_for at every threshold's edge: 0 without a purchase whatever the spend;
-- then 49999 -> 1, 50000 -> 2, 299999 -> 2, 300000 -> 3, 799999 -> 3, 800000 -> 4.
SELECT c.spend, c.purchased, loyalty_tier_for(c.spend, c.purchased, p) AS tier
FROM program p,
     (VALUES (0::bigint, false), (900000, false), (0, true), (49999, true), (50000, true),
             (299999, true), (300000, true), (799999, true), (800000, true),
             (10000000000, true)) c(spend, purchased);
-- The thresholds are the program's: at 100, 200 and 300 yuan, 9999 -> 1, 10000 -> 2,
-- 19999 -> 2, 20000 -> 3, 29999 -> 3, 30000 -> 4.
UPDATE program SET senior_threshold_cents = 10000, vip_threshold_cents = 20000,
                   supreme_threshold_cents = 30000;
SELECT c.spend, loyalty_tier_for(c.spend, true, p) AS tier
FROM program p, (VALUES (9999::bigint), (10000), (19999), (20000), (29999), (30000)) c(spend);
UPDATE program SET senior_threshold_cents = 50000, vip_threshold_cents = 300000,
                   supreme_threshold_cents = 800000;

-- 2. loyalty_next_tier: the tier above and the spend still needed, never negative.
--   tier 0: ordinary, nothing needed (any purchase makes one ordinary);
--   ordinary at 0: senior, 50000; at 123.45 yuan: 50000 - 12345 = 37655;
--   ordinary at 600 yuan (HQ set it lower than the spend): senior, 0;
--   senior at 50000: VIP, 300000 - 50000 = 250000; at 299999: 1;
--   VIP at 300000: supreme, 500000; VIP kept by HQ at 100 yuan: 800000 - 10000 = 790000;
--   supreme, also kept at 0: none (0), 0.
SELECT c.tier, c.spend, n.*
FROM program p,
     (VALUES (0, 0::bigint), (1, 0), (1, 12345), (1, 60000), (2, 50000), (2, 299999),
             (3, 300000), (3, 10000), (4, 800000), (4, 0)) c(tier, spend),
     loyalty_next_tier(c.tier::smallint, c.spend, p) n;

-- 3. loyalty_tier_after, lifetime policy: the tier after a purchase (+) or refund (-).
-- Purchases: 0 + 0.01 yuan -> 1; 0 + 500 -> 2; 1 at 49999 + 1 -> 2; 2 at 290000 + 20000 ->
--   3; 1 at 0 + 8000 yuan -> 4 (straight to supreme); VIP (set by HQ) at 100 yuan + 1 yuan
--   stays 3 (spend gives 1; a purchase never lowers).
-- Refunds: 2 at 50000 - 1 -> 1; 2 at 50000 - 50000 -> 1 (never below ordinary); HQ's VIP at
--   1000 yuan - 1 yuan -> 2 (the spend's); HQ's ordinary at 4000 yuan - 1 yuan stays 1
--   (spend gives 3; a refund never raises); 4 at 900000 - 100000 stays 4 (800000 exactly);
--   4 at 900000 - 100001 -> 3.
SELECT c.tier, c.spend, c.delta, loyalty_tier_after(member_at(c.tier, c.spend), c.delta, p)
       AS tier_after
FROM program p,
     (VALUES (0, 0::bigint, 1::bigint), (0, 0, 50000), (1, 49999, 1), (2, 290000, 20000),
             (1, 0, 800000), (3, 10000, 100),
             (2, 50000, -1), (2, 50000, -50000), (3, 100000, -100), (1, 400000, -100),
             (4, 900000, -100000), (4, 900000, -100001)) c(tier, spend, delta);

-- 4. End to end, lifetime policy: ann and bob at store S1.
SELECT member_id AS ann FROM loyalty_enroll('sql', 'S1', 'en-a', '\x01', '13900000001', 'ann',
  NULL, '{}', '{}') \gset
SELECT member_id AS bob FROM loyalty_enroll('sql', 'S1', 'en-b', '\x02', '13900000002', 'bob',
  NULL, '{}', '{}') \gset
-- ann: 499.99 yuan, ordinary (499 points); 0.01 more reaches senior's 50000 exactly
-- (0 points); refunding that cent takes her back to ordinary (0 points taken).
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'a-1', '\x03', :ann, 'L-1', 49999);
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'a-2', '\x04', :ann, 'L-2', 1);
SELECT points, balance, tier, tier_changed
FROM loyalty_refund('sql', 'S1', 'a-3', '\x05', :ann, NULL, 'L-2', '', 1);
-- HQ makes her VIP as a courtesy. GetBalance: VIP at 49999, supreme next, 750001 to go.
SELECT loyalty_set_tier('hq', :ann, 3::smallint, 'courtesy');
SELECT * FROM balance_of('ann');
-- A purchase does not lower it (her spend gives ordinary) and earns at VIP's multiplier:
-- 100 yuan x 1.2 = 120.
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'a-4', '\x06', :ann, 'L-3', 10000);
-- bob: 100 yuan (100 points, ordinary); HQ makes him supreme by mistake. Tiers outside
-- ordinary..supreme are refused.
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'b-1', '\x07', :bob, 'L-4', 10000);
SELECT loyalty_set_tier('hq', :bob, 4::smallint, 'mistake');
SELECT loyalty_set_tier('hq', :bob, 0::smallint, 'no tier');
SELECT loyalty_set_tier('hq', :bob, 5::smallint, 'above supreme');
-- The yearly review, lifetime policy (the date does not change the spend): ann's 599.99
-- yuan gives senior, below her VIP: 3 -> 2; bob's 100 yuan gives ordinary: 4 -> 3, one
-- tier only. 2 moved. The same date again changes nothing and says so (2, already done).
SELECT * FROM loyalty_evaluate_tiers('hq', '2030-01-01');
SELECT * FROM loyalty_evaluate_tiers('hq', '2030-01-01');
-- Later reviews: ann stays senior (her spend's tier); bob 3 -> 2, then 2 -> 1, then
-- nobody moves.
SELECT * FROM loyalty_evaluate_tiers('hq', '2030-01-02');
SELECT * FROM loyalty_evaluate_tiers('hq', '2030-01-03');
SELECT * FROM loyalty_evaluate_tiers('hq', '2030-01-04');
-- ann: 499 + 0 + 120 = 619 points, spend 599.99 yuan, senior; bob: 100, 100 yuan, ordinary.
SELECT name, balance, lifetime_spend_cents, tier FROM members ORDER BY name;
SELECT m.name, t.old_tier, t.new_tier, t.reason
FROM tier_changes t JOIN members m USING (member_id) ORDER BY m.name, t.change_id;

-- 5. Rolling policy: only the net spend of the last 12 months counts.
UPDATE program SET tier_policy = 'rolling';
-- Purchases are dated back by hand, as the owner with the ledger's append-only trigger off
-- (when they happened and when they were recorded, as if they had come on time):
-- "old" to the 2nd of the month 14 months ago (12:00 UTC; always out of the last 12 months),
-- "recent" to the 2nd of the month 10 months ago (always in them, also for the reviews
-- below, up to four days ahead). The 2nd: no month-end clamping.
CREATE FUNCTION date_back(p_order text, p_months int) RETURNS void
LANGUAGE sql AS $$
  ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;
  UPDATE ledger SET created_at = date_trunc('month', now()) - make_interval(months => p_months)
                                 + interval '36 hours'
  WHERE order_id = p_order;
  UPDATE ledger SET occurred_at = created_at WHERE order_id = p_order;
  ALTER TABLE ledger ENABLE TRIGGER ledger_append_only;
$$;
SELECT member_id AS cat FROM loyalty_enroll('sql', 'S1', 'en-c', '\x08', '13900000003', 'cat',
  NULL, '{}', '{}') \gset
SELECT member_id AS eve FROM loyalty_enroll('sql', 'S1', 'en-e', '\x09', '13900000004', 'eve',
  NULL, '{}', '{}') \gset
SELECT member_id AS fay FROM loyalty_enroll('sql', 'S1', 'en-f', '\x0a', '13900000005', 'fay',
  NULL, '{}', '{}') \gset
-- cat: 3,000 yuan makes her VIP (3000 points); dated 14 months back. Then 600 yuan at VIP
-- (720 points): her 12-month spend is 60000, which gives senior, but a purchase never
-- lowers: VIP stays. Dated 10 months back.
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'c-1', '\x0b', :cat, 'C-old', 300000);
SELECT date_back('C-old', 14);
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'c-2', '\x0c', :cat, 'C-recent', 60000);
SELECT date_back('C-recent', 10);
-- The window's edges, around the recent purchase (at t; the old one is 4 months before):
--   [t - 12 months, t) has the old one only: 300000; t + 1 microsecond has both: 360000;
--   at t + 12 months the recent one is exactly 12 months back and counts: 60000;
--   a microsecond later it does not: 0.
SELECT c.at_label, loyalty_rolling_spend(:cat, l.created_at + c.shift) AS spend
FROM ledger l,
     (VALUES ('t', interval '0'), ('t + 1 us', interval '1 microsecond'),
             ('t + 12 months', interval '12 months'),
             ('t + 12 months + 1 us', interval '12 months 1 microsecond')) c(at_label, shift)
WHERE l.order_id = 'C-recent';
-- GetBalance counts the policy's spend: VIP, 600 yuan of 3,600 in the last 12 months,
-- supreme next with 800000 - 60000 = 740000 to go (not 440000).
SELECT * FROM balance_of('cat');
-- eve: 8,000 yuan, supreme (8000 points), 14 months back: her 12-month spend is 0.
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'e-1', '\x0d', :eve, 'E-old', 800000);
SELECT date_back('E-old', 14);
-- fay: 2,500 yuan, senior (2500 points), 14 months back. Then 600 yuan (600 points): 60000
-- in 12 months gives senior, she stays senior (lifetime's 310000 would give VIP). Then
-- 2,500 yuan more (2500 points): 310000 in 12 months, VIP.
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'f-1', '\x0e', :fay, 'F-old', 250000);
SELECT date_back('F-old', 14);
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'f-2', '\x0f', :fay, 'F-new1', 60000);
SELECT points, balance, tier, tier_changed
FROM loyalty_earn('sql', 'S1', 'f-3', '\x10', :fay, 'F-new2', 250000);
-- The reviews, rolling policy, as of tomorrow (local) and the three days after: the spend
-- of the 12 months before that midnight (today's purchases count).
-- Tomorrow: ann (senior, 59999: senior) stays; bob is ordinary; cat (VIP, 60000: senior)
--   3 -> 2; eve (supreme, 0: ordinary) 4 -> 3; fay (VIP, 310000: VIP) stays. 2 moved.
-- Then eve 3 -> 2 (1 moved), eve 2 -> 1 (1 moved), nobody (0).
SELECT * FROM loyalty_evaluate_tiers('hq', loyalty_local_date((SELECT p FROM program p), now()) + 1);
SELECT * FROM loyalty_evaluate_tiers('hq', loyalty_local_date((SELECT p FROM program p), now()) + 2);
SELECT * FROM loyalty_evaluate_tiers('hq', loyalty_local_date((SELECT p FROM program p), now()) + 3);
SELECT * FROM loyalty_evaluate_tiers('hq', loyalty_local_date((SELECT p FROM program p), now()) + 4);
-- cat refunds 100.01 yuan of the recent purchase: her 12-month spend 60000 - 10001 = 49999
-- gives ordinary: senior -> ordinary (lifetime's 349999 would have kept her senior).
-- Points: floor(720 x 10001 / 60000) = floor(120.012) = 120 taken, 3720 - 120 = 3600 left.
SELECT points, balance, tier, tier_changed
FROM loyalty_refund('sql', 'S1', 'c-3', '\x11', :cat, NULL, 'C-recent', '', 10001);
-- GetBalance: ordinary, 349999 in all, 49999 in 12 months: senior next, 1 cent to go.
SELECT * FROM balance_of('cat');
-- Everyone: cat 3600, 349999, ordinary; eve 8000, 800000, ordinary; fay 2500 + 600 + 2500 =
-- 5600, 560000, VIP.
SELECT name, balance, lifetime_spend_cents, tier FROM members ORDER BY name;
SELECT m.name, t.old_tier, t.new_tier, t.reason
FROM tier_changes t JOIN members m USING (member_id)
WHERE m.name IN ('cat', 'eve', 'fay') ORDER BY m.name, t.change_id;
