-- earn_formula: the points of an earn (db/functions/earn.sql, loyalty_earn_points, which
-- loyalty_earn and loyalty_earn_batch call through loyalty_earn_write).
--   points = floor(whole_yuan x points_per_yuan x tier x birthday x campaign) + bonuses
-- whole_yuan = amount_cents / 100 (integer division); tier: the permille multiplier of the
-- tier before the purchase (tier 0 earns as ordinary); birthday: birthday_multiplier in the
-- member's birthday month, in the program's time zone; campaign: the highest multiplier of
-- the campaigns running (they do not stack); bonuses: those of all the campaigns running,
-- added after the rounding. Nothing under the minimum paid amount.
\set VERBOSITY terse
-- S1 and S2 sell through channel 2 (the app), S3 through channel 1.
INSERT INTO stores (store_code, name, channel) VALUES
  ('S1', 'app store one', 2), ('S2', 'app store two', 2), ('S3', 'counter three', 1);
-- The live formula with the program as it is in this database (UPDATE program changes it).
CREATE FUNCTION earn(p_amount bigint, p_tier int, p_birthday date, p_store text,
                     p_at timestamptz) RETURNS TABLE (points bigint, explanation text)
LANGUAGE sql AS $$
  SELECT e.points, e.explanation
  FROM program p,
       loyalty_earn_points(p, p_amount, p_tier::smallint, p_birthday,
                           (SELECT store_id FROM stores WHERE store_code = p_store), p_at) e
$$;
-- The defaults: 1 point per yuan, ordinary and senior x1, VIP x1.2, supreme x1.5, birthday
-- x2, no minimum, Asia/Shanghai.
SELECT points_per_yuan, ordinary_permille, senior_permille, vip_permille, supreme_permille,
       birthday_multiplier, min_paid_cents, time_zone FROM program;

-- 1. Whole yuan only, at 1 per yuan (a June day: no campaign, no birthday).
-- 99 cents = 0 yuan: 0; 1.00 = 1; 199.99 = 199; 200.00 = 200; the largest amount,
-- 100 million yuan: 100000000.
SELECT c.amount_cents, e.*
FROM (VALUES (99), (100), (19999), (20000), (10000000000)) c(amount_cents),
     earn(c.amount_cents, 1, NULL, 'S3', '2026-06-15 12:00+08') e;

-- 2. Points per yuan: at 3, 199 yuan = 597; VIP: 3 x 199 x 1.2 = 716.4, floor 716 (rounding
-- the VIP step first would give 238 x 3 = 714).
UPDATE program SET points_per_yuan = 3;
SELECT c.tier, e.*
FROM (VALUES (1), (3)) c(tier), earn(19999, c.tier, NULL, 'S3', '2026-06-15 12:00+08') e;
UPDATE program SET points_per_yuan = 1;

-- 3. Each tier's multiplier. With five distinct multipliers (ordinary 0.9, senior 1.1) each
-- tier must pick its own: 199 x 0.9 = 179.1 -> 179 for tier 0 (as ordinary) and tier 1;
-- 199 x 1.1 = 218.9 -> 218; 199 x 1.2 = 238.8 -> 238; 199 x 1.5 = 298.5 -> 298.
UPDATE program SET ordinary_permille = 900, senior_permille = 1100;
SELECT c.tier, e.*
FROM generate_series(0, 4) c(tier), earn(19999, c.tier, NULL, 'S3', '2026-06-15 12:00+08') e;
-- With the defaults: 199, 199, 199, 238, 298; the tier shows in the explanation only when it
-- is not x1.
UPDATE program SET ordinary_permille = 1000, senior_permille = 1000;
SELECT c.tier, e.*
FROM generate_series(0, 4) c(tier), earn(19999, c.tier, NULL, 'S3', '2026-06-15 12:00+08') e;

-- 4. Rounded down once, at the end, after taking whole yuan: VIP on 199.99 yuan is
-- 199 x 1.2 = 238 (not 199.99 x 1.2 = 239.988 -> 239); VIP in the birthday month
-- 199 x 1.2 x 2 = 477.6 -> 477 (not 238 x 2 = 476); supreme in the birthday month
-- 199 x 1.5 x 2 = 597 exactly (not 298 x 2 = 596).
SELECT c.tier, e.*
FROM (VALUES (3), (4)) c(tier), earn(19999, c.tier, '1990-06-01', 'S3', '2026-06-15 12:00+08') e;

-- 5. The minimum paid amount, in cents: at 50 yuan, 49.99 earns nothing, 50.00 earns 50 and
-- 50.99 earns 50.
UPDATE program SET min_paid_cents = 5000;
SELECT c.amount_cents, e.*
FROM (VALUES (4999), (5000), (5099)) c(amount_cents),
     earn(c.amount_cents, 1, NULL, 'S3', '2026-06-15 12:00+08') e;
UPDATE program SET min_paid_cents = 0;

-- 6. The birthday month is the month of the moment in the program's time zone.
-- Asia/Shanghai is UTC+8 all year: November runs from 2026-10-31 16:00:00+00 to
-- 2026-11-30 16:00:00+00 (exclusive). Born in November: 199 before, 398 from its first
-- second to its last, 199 again on December 1.
SELECT c.at, e.*
FROM (VALUES ('2026-10-31 15:59:59+00'::timestamptz), ('2026-10-31 16:00:00+00'),
             ('2026-11-30 15:59:59+00'), ('2026-11-30 16:00:00+00')) c(at),
     earn(19999, 1, '1990-11-15', 'S3', c.at) e;
-- Born on December 1: 2026-11-30 16:00:00+00 is already December in Shanghai (398).
-- Born on February 29: all of February counts, in a year without one (398).
-- No birthday known: never (199).
SELECT c.birthday, c.at, e.*
FROM (VALUES ('1990-12-01'::date, '2026-11-30 15:59:59+00'::timestamptz),
             ('1990-12-01', '2026-11-30 16:00:00+00'),
             ('1992-02-29', '2027-02-15 12:00:00+08'),
             (NULL, '2026-11-15 12:00:00+08')) c(birthday, at),
     earn(19999, 1, c.birthday, 'S3', c.at) e;
-- America/New_York: daylight saving time ends on 2026-11-01 at 02:00, so November begins
-- at 04:00+00 (EDT, UTC-4) and ends at 2026-12-01 05:00+00 (EST, UTC-5).
-- 2026-11-30 16:00:00+00 is 11:00 on November 30 there: 398, where Shanghai gave 199.
UPDATE program SET time_zone = 'America/New_York';
SELECT c.at, e.*
FROM (VALUES ('2026-11-01 03:59:59+00'::timestamptz), ('2026-11-01 04:00:00+00'),
             ('2026-11-30 16:00:00+00'), ('2026-12-01 04:59:59+00'),
             ('2026-12-01 05:00:00+00')) c(at),
     earn(19999, 1, '1990-11-15', 'S3', c.at) e;
-- Europe/Paris, UTC+1 in winter: November ends at 2026-11-30 23:00:00+00.
UPDATE program SET time_zone = 'Europe/Paris';
SELECT c.at, e.*
FROM (VALUES ('2026-11-30 22:59:59+00'::timestamptz), ('2026-11-30 23:00:00+00')) c(at),
     earn(19999, 1, '1990-11-15', 'S3', c.at) e;
UPDATE program SET time_zone = 'Asia/Shanghai';

-- 7. Campaigns. 双11 in Shanghai is [2026-11-10 16:00+00, 2026-11-11 16:00+00).
-- All created long before (a campaign counts at a moment only if it existed then).
INSERT INTO campaigns (name, multiplier_permille, bonus_points, starts_at, ends_at,
                       store_codes, channels, tiers, created_by, ended_at) VALUES
  ('双11 S1', 3000, 0, '2026-11-11 00:00+08', '2026-11-12 00:00+08', '{S1}', '{}', '{}',
   'sql', NULL),
  ('app x2', 2000, 0, '2026-11-11 00:00+08', '2026-11-12 00:00+08', '{}', '{2}', '{}',
   'sql', NULL),
  ('member day', 1000, 50, '2026-11-11 00:00+08', '2026-11-12 00:00+08', '{}', '{}', '{}',
   'sql', NULL),
  ('S3 opening', 1000, 30, '2026-11-11 00:00+08', '2026-11-12 00:00+08', '{S3}', '{}', '{}',
   'sql', NULL),
  -- Ended early by HQ: never counts, even inside its window.
  ('called off x5', 5000, 0, '2026-11-11 00:00+08', '2026-11-12 00:00+08', '{}', '{}', '{}',
   'sql', '2026-11-01 00:00+08'),
  -- The day after: starts when the 双11 ones end.
  ('next day x4', 4000, 0, '2026-11-12 00:00+08', '2026-11-13 00:00+08', '{}', '{}', '{}',
   'sql', NULL),
  -- Ordinary members only (tier 0, before a first purchase, counts as ordinary).
  ('ordinary welcome', 1000, 7, '2026-11-20 00:00+08', '2026-11-21 00:00+08', '{}', '{}',
   '{1}', 'sql', NULL),
  -- The largest multiplier, for the largest earn (section 8).
  ('overflow check', 10000, 0, '2025-12-25 00:00+08', '2025-12-26 00:00+08', '{}', '{}', '{}',
   'sql', NULL);
UPDATE campaigns SET created_at = '2025-01-01 00:00+08';
-- At noon on 双11, 199 yuan, ordinary:
--   S1 (store S1, channel 2): x3 and x2 apply, the highest counts: 199 x 3 + 50 = 647;
--   S2 (channel 2): 199 x 2 + 50 = 448;
--   S3 (channel 1): no multiplier (x5 was called off: it would give 995 + 80), and both
--     bonuses add: 199 + 50 + 30 = 279.
-- The explanation names every campaign that applied, multiplier counted or not.
SELECT c.store, e.*
FROM (VALUES ('S1'), ('S2'), ('S3')) c(store),
     earn(19999, 1, NULL, c.store, '2026-11-11 12:00+08') e;
-- Everything at once, at S1: VIP in the birthday month, 199 x 1.2 x 2 x 3 = 1432.8 -> 1432,
-- + 50 = 1482 (rounding step by step would give 238 x 2 x 3 + 50 = 1478).
SELECT * FROM earn(19999, 3, '1990-11-15', 'S1', '2026-11-11 12:00+08');
-- The window's edges at S1: starts_at is in, ends_at is out (and is the next one's start).
--   a microsecond before 双11: 199; its first moment: 647; its last microsecond: 647;
--   its end: only "next day x4", 199 x 4 = 796; the end of that one: 199.
SELECT c.at, e.*
FROM (VALUES ('2026-11-10 15:59:59.999999+00'::timestamptz), ('2026-11-10 16:00:00+00'),
             ('2026-11-11 15:59:59.999999+00'), ('2026-11-11 16:00:00+00'),
             ('2026-11-12 16:00:00+00')) c(at),
     earn(19999, 1, NULL, 'S1', c.at) e;
-- A tier-limited campaign counts the tier before the purchase, tier 0 as ordinary:
-- tiers 0 and 1 get 199 + 7 = 206; senior 199; VIP 238.
SELECT c.tier, e.*
FROM generate_series(0, 3) c(tier), earn(19999, c.tier, NULL, 'S3', '2026-11-20 12:00+08') e;
-- In force at a moment (a late sale's occurred_at): the window covers it, it existed then,
-- it had not been ended early by then. At S3 on 2026-12-05, 12:00 local:
--   'created late' (x6) was created on the 6th with a window reaching back: a sale of the
--     5th does not get it, on time or synced late;
--   'ended on the 5th' (x5) was ended early at 13:00 on the 5th: a sale of 12:00 gets it;
--   'ended at noon' (x7) was ended at 12:00 sharp: it counts a microsecond before, not at
--     12:00 (ended_at is out).
-- So 199 x 7 = 1393 a microsecond before noon, 199 x 5 = 995 at noon, 199 at 13:00.
INSERT INTO campaigns (name, multiplier_permille, starts_at, ends_at, store_codes, created_by,
                       created_at, ended_at) VALUES
  ('created late', 6000, '2026-12-05 00:00+08', '2026-12-06 00:00+08', '{S3}', 'sql',
   '2026-12-06 09:00+08', NULL),
  ('ended on the 5th', 5000, '2026-12-05 00:00+08', '2026-12-06 00:00+08', '{S3}', 'sql',
   '2026-12-01 00:00+08', '2026-12-05 13:00+08'),
  ('ended at noon', 7000, '2026-12-05 00:00+08', '2026-12-06 00:00+08', '{S3}', 'sql',
   '2026-12-01 00:00+08', '2026-12-05 12:00+08');
SELECT c.at, e.*
FROM (VALUES ('2026-12-05 11:59:59.999999+08'::timestamptz), ('2026-12-05 12:00+08'),
             ('2026-12-05 13:00+08')) c(at),
     earn(19999, 1, NULL, 'S3', c.at) e;
-- Under the minimum paid amount, no campaign gives anything, the bonus neither: 0.
UPDATE program SET min_paid_cents = 5000;
SELECT * FROM earn(4999, 3, '1990-11-15', 'S1', '2026-11-11 12:00+08');
UPDATE program SET min_paid_cents = 0;

-- 8. No overflow at the largest values: 10^8 yuan x 100 per yuan x 10 (tier) x 10 (birthday)
-- x 10 (campaign) = 10^13 points (the product before dividing the two permilles out,
-- 10^8 x 100 x 10000 x 10 x 10000 = 10^19, exceeds bigint's 9.2 x 10^18).
UPDATE program SET points_per_yuan = 100, supreme_permille = 10000, birthday_multiplier = 10;
SELECT * FROM earn(10000000000, 4, '1990-12-01', 'S3', '2025-12-25 12:00+08');
UPDATE program SET points_per_yuan = 1, supreme_permille = 1500, birthday_multiplier = 2;

-- 9. A real earn uses this formula with the tier before the purchase, and keeps the
-- explanation as the ledger row's reason. (Now is after every campaign window above, and
-- the member has no birthday.) First purchase, tier 0 -> ordinary: 199; 3,000 yuan at
-- ordinary: 3000, and the member becomes VIP (spend 3,199.99 yuan); then 199 x 1.2 = 238.
SELECT member_id AS m FROM loyalty_enroll('sql', 'S3', 'en-1', '\x01', '13900000001',
  'earner', NULL, '{}', '{}') \gset
SELECT points, tier, explanation FROM loyalty_earn('sql', 'S3', 'e-1', '\x02', :m, 'O-1', 19999);
SELECT points, tier, explanation FROM loyalty_earn('sql', 'S3', 'e-2', '\x03', :m, 'O-2', 300000);
SELECT points, tier, explanation FROM loyalty_earn('sql', 'S3', 'e-3', '\x04', :m, 'O-3', 19999);
SELECT order_id, points, tier_after, reason FROM ledger WHERE member_id = :m ORDER BY txn_id;
