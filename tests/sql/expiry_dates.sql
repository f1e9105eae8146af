-- expiry_dates: the last day of a lot (db/functions/expiry.sql, loyalty_lot_expiry), by the
-- program's expiry policy, from the lot's local day (loyalty_local_date: the day of the
-- earn in the program's time zone):
--   year_end: December 31 of the year after the day;
--   rolling:  the day plus expiry_months months (clamped to the month's end: January 31 +
--             1 month is February 28, or 29 in a leap year);
--   never:    infinity.
-- A lot is spendable through its last day (the expiry run takes lots whose last day is
-- before its date).
\set VERBOSITY terse
-- The program with another expiry policy and time zone: a modified copy of the row.
CREATE FUNCTION program_with(p_policy text, p_months int, p_zone text) RETURNS program
LANGUAGE plpgsql AS $$
DECLARE
  p program;
BEGIN
  SELECT * INTO STRICT p FROM program;
  p.expiry_policy := p_policy;
  p.expiry_months := p_months;
  p.time_zone := p_zone;
  RETURN p;
END $$;
SELECT expiry_policy, expiry_months, time_zone FROM program;

-- 1. year_end: 2026-01-01, 2026-06-15 and 2026-12-31 -> 2027-12-31; 2027-01-01 ->
-- 2028-12-31; 2028-02-29 -> 2029-12-31.
SELECT c.day, loyalty_lot_expiry(p, c.day) AS last_day
FROM program p,
     (VALUES ('2026-01-01'::date), ('2026-06-15'), ('2026-12-31'), ('2027-01-01'),
             ('2028-02-29')) c(day);

-- 2. rolling.
-- 1 month: 2026-01-15 -> 2026-02-15; 2026-01-31 -> 2026-02-28 (clamped); 2028-01-31 ->
--   2028-02-29 (leap year); 2026-03-31 -> 2026-04-30; 2026-12-31 -> 2027-01-31.
-- 12 months: 2026-12-31 -> 2027-12-31; 2028-02-29 -> 2029-02-28.
-- 24 months (the default count): 2024-02-29 -> 2026-02-28; 2026-06-15 -> 2028-06-15.
-- 120 months (the most): 2026-06-15 -> 2036-06-15.
SELECT c.months, c.day, loyalty_lot_expiry(program_with('rolling', c.months, 'Asia/Shanghai'),
                                           c.day) AS last_day
FROM (VALUES (1, '2026-01-15'::date), (1, '2026-01-31'), (1, '2028-01-31'), (1, '2026-03-31'),
             (1, '2026-12-31'), (12, '2026-12-31'), (12, '2028-02-29'), (24, '2024-02-29'),
             (24, '2026-06-15'), (120, '2026-06-15')) c(months, day);

-- 3. never: infinity, whatever the day.
SELECT c.day, loyalty_lot_expiry(program_with('never', 24, 'Asia/Shanghai'), c.day) AS last_day
FROM (VALUES ('2026-01-01'::date), ('2026-12-31')) c(day);

-- 4. The local day of the earn decides. Asia/Shanghai (UTC+8): 2026-12-31 15:59:59+00 is
-- still 2026-12-31 (-> 2027-12-31); 16:00:00+00 and 16:30:00+00 are 2027-01-01
-- (-> 2028-12-31). America/New_York (UTC-5 in winter): 2026-12-31 16:30+00 is 11:30 on
-- December 31 (-> 2027-12-31); the year turns at 2027-01-01 05:00:00+00.
SELECT c.zone, c.at, loyalty_local_date(p, c.at) AS local_day,
       loyalty_lot_expiry(p, loyalty_local_date(p, c.at)) AS last_day
FROM (VALUES ('Asia/Shanghai', '2026-12-31 15:59:59+00'::timestamptz),
             ('Asia/Shanghai', '2026-12-31 16:00:00+00'),
             ('Asia/Shanghai', '2026-12-31 16:30:00+00'),
             ('America/New_York', '2026-12-31 16:30:00+00'),
             ('America/New_York', '2027-01-01 04:59:59+00'),
             ('America/New_York', '2027-01-01 05:00:00+00')) c(zone, at),
     program_with('year_end', 24, c.zone) p;
-- rolling 1 month in Shanghai: 2026-01-30 15:59:59+00 is January 30 (-> February 28,
-- clamped); 2026-01-30 16:00:00+00 is January 31 (-> February 28); 2026-01-31 16:00:00+00
-- is February 1 (-> March 1).
SELECT c.at, loyalty_local_date(p, c.at) AS local_day,
       loyalty_lot_expiry(p, loyalty_local_date(p, c.at)) AS last_day
FROM (VALUES ('2026-01-30 15:59:59+00'::timestamptz), ('2026-01-30 16:00:00+00'),
             ('2026-01-31 16:00:00+00')) c(at),
     program_with('rolling', 1, 'Asia/Shanghai') p;

-- 5. The lot a real earn makes (now, which a test cannot choose) has the last day of the
-- earn's local day under the program as it is: checked against the functions
-- (loyalty_lot_expiry of loyalty_local_date of the ledger row's time) and against the rule
-- written out here with PostgreSQL's own date arithmetic.
INSERT INTO stores (store_code, name, channel) VALUES ('S1', 'store one', 1);
SELECT member_id AS m FROM loyalty_enroll('sql', 'S1', 'en-1', '\x01', '13900000001', 'lot',
  NULL, '{}', '{}') \gset
CREATE FUNCTION lot_of(p_order text) RETURNS TABLE (policy text, zone text, points bigint,
  by_functions boolean, by_rule boolean)
LANGUAGE sql AS $$
  SELECT p.expiry_policy, p.time_zone, l.points,
         l.expires_on = loyalty_lot_expiry(p, loyalty_local_date(p, g.created_at)),
         l.expires_on = CASE p.expiry_policy
           WHEN 'year_end'
             THEN make_date(extract(year FROM g.created_at AT TIME ZONE p.time_zone)::int + 1,
                            12, 31)
           WHEN 'rolling'
             THEN ((g.created_at AT TIME ZONE p.time_zone)::date
                   + make_interval(months => p.expiry_months))::date
           ELSE 'infinity'::date END
  FROM ledger g JOIN lots l USING (txn_id) CROSS JOIN program p
  WHERE g.order_id = p_order OR g.request_id = p_order
$$;
-- year_end in Shanghai. Within the earn's transaction now() is the earn's moment, so the
-- lot can be checked against loyalty_lot_expiry(p, loyalty_local_date(p, now())) too.
BEGIN;
SELECT points FROM loyalty_earn('sql', 'S1', 'e-1', '\x02', :m, 'O-1', 10000);
SELECT l.expires_on = loyalty_lot_expiry(p, loyalty_local_date(p, now())) AS by_now
FROM ledger g JOIN lots l USING (txn_id) CROSS JOIN program p WHERE g.order_id = 'O-1';
COMMIT;
SELECT * FROM lot_of('O-1');
-- Then Pacific/Kiritimati (UTC+14) and Pacific/Pago_Pago (UTC-11): their local days are
-- always one or two days apart, so under rolling an earn that dated its lot by any one
-- fixed zone would fail one of the two, at whatever time the test runs (unless month-end
-- clamping folds the two days into one last day).
UPDATE program SET time_zone = 'Pacific/Kiritimati';
SELECT points FROM loyalty_earn('sql', 'S1', 'e-2', '\x03', :m, 'O-2', 20000);
SELECT * FROM lot_of('O-2');
UPDATE program SET time_zone = 'Pacific/Pago_Pago';
SELECT points FROM loyalty_earn('sql', 'S1', 'e-3', '\x04', :m, 'O-3', 30000);
SELECT * FROM lot_of('O-3');
-- rolling 18 months, in Kiritimati and in Pago Pago.
UPDATE program SET expiry_policy = 'rolling', expiry_months = 18,
                   time_zone = 'Pacific/Kiritimati';
SELECT points FROM loyalty_earn('sql', 'S1', 'e-4', '\x05', :m, 'O-4', 40000);
SELECT * FROM lot_of('O-4');
UPDATE program SET time_zone = 'Pacific/Pago_Pago';
SELECT points FROM loyalty_earn('sql', 'S1', 'e-5', '\x06', :m, 'O-5', 50000);
SELECT * FROM lot_of('O-5');
-- never (in Shanghai): the lot's last day is infinity.
UPDATE program SET expiry_policy = 'never', time_zone = 'Asia/Shanghai';
SELECT points FROM loyalty_earn('sql', 'S1', 'e-6', '\x07', :m, 'O-6', 60000);
SELECT *, (SELECT expires_on FROM lots l JOIN ledger g USING (txn_id) WHERE g.order_id = 'O-6')
FROM lot_of('O-6');
-- HQ's positive adjustment makes a lot dated like an earn's (rolling 6 months, Shanghai).
UPDATE program SET expiry_policy = 'rolling', expiry_months = 6;
SELECT points FROM loyalty_adjust('hq', '', 'adj-1', '\x08', :m, 70, 'goodwill');
SELECT * FROM lot_of('adj-1');
-- A policy change rewrites no lot: O-1's lot still ends on December 31 of the year after
-- its Shanghai day. Seven lots (six earns, one adjustment): 100 + 200 + 300 + 400 + 500 +
-- 600 + 70 = 2170 points, the whole balance.
SELECT l.expires_on = make_date(extract(year FROM g.created_at AT TIME ZONE 'Asia/Shanghai')::int
                                + 1, 12, 31) AS o1_still_year_end
FROM ledger g JOIN lots l USING (txn_id) WHERE g.order_id = 'O-1';
SELECT count(*) AS lots, sum(remaining) AS in_lots,
       (SELECT balance FROM members WHERE member_id = :m) AS balance
FROM lots WHERE member_id = :m;
