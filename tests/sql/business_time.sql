-- business_time: the rules of the moment a movement happened (occurred_at), as the stored
-- functions decide them (db/functions/business_time.sql, program.sql, tiers.sql): the program
-- in force at a moment, the bounds, what is late, the rolling spend by occurred_at with a
-- refund dated by its purchase. (Campaigns in force at a moment: earn_formula.sql.)
\set VERBOSITY terse
INSERT INTO stores (store_code, name, channel) VALUES ('S1', 'store one', 1);

-- 1. The program in force at a moment: the rules the first change after it replaced, or
-- today's. Two changes, written as loyalty_update_program writes them, dated by hand: from
-- 1 to 2 points per yuan on 2026-01-01 (Shanghai), from 2 (and max_backdate_days 10) to
-- today's 3 on 2026-06-01. A field missing from the old rules (here time_zone, as a field
-- added to the program after the change would be) is today's.
INSERT INTO program_changes (principal, changed_at, old_rules, new_rules, old_rules_json) VALUES
  ('hq', '2026-01-01 00:00+08', '', '', '{"points_per_yuan": 1}'),
  ('hq', '2026-06-01 00:00+08', '', '', '{"points_per_yuan": 2, "max_backdate_days": 10}');
UPDATE program SET points_per_yuan = 3, time_zone = 'Europe/Paris';
SELECT c.t, (p).points_per_yuan, (p).max_backdate_days, (p).time_zone
FROM (VALUES ('2025-12-31 23:59:59.999999+08'::timestamptz), ('2026-01-01 00:00+08'),
             ('2026-05-31 23:59:59.999999+08'), ('2026-06-01 00:00+08'),
             ('infinity')) c(t),
     LATERAL (SELECT loyalty_program_at(c.t) AS p) x;
SELECT loyalty_program_changed_at();
UPDATE program SET points_per_yuan = 1, time_zone = 'Asia/Shanghai';

-- 2. The bounds, against the database's clock: 5 minutes ahead, max_backdate_days (30) back
-- for a store key's principal ('sql' is no HQ key); NULL is now, always fine.
SELECT c.label, loyalty_occurred_at_problem(c.at, 'sql', p) AS problem
FROM program p,
     (VALUES ('now', now()), ('null', NULL), ('+5 minutes', now() + interval '5 minutes'),
             ('+5 minutes 1 us', now() + interval '5 minutes 1 microsecond'),
             ('-30 days', now() - interval '30 days'),
             ('-30 days 1 us', now() - interval '30 days 1 microsecond')) c(label, at);

-- 3. Late: recorded more than an hour after it happened; imported history never is.
SELECT c.ago, loyalty_late(now(), now() - c.ago, 'till-7') AS late,
       loyalty_late(now(), now() - c.ago, 'import 3') AS imported_late
FROM (VALUES (interval '0'), (interval '1 hour'), (interval '1 hour 1 microsecond'),
             (interval '-5 minutes')) c(ago);

-- 4. Rolling spend by occurred_at; a refund is dated by its purchase. ann bought 1,000 yuan
-- 14 months ago (dated by hand, as the owner with the append-only trigger off) and 200 yuan
-- now; she returns 300 yuan of the old purchase and 50 of the new one now. Her 12-month
-- spend: 20000 - 5000 = 15000: the old purchase's refund takes nothing from the window (it
-- made the spend negative when refunds counted by when they were recorded).
SELECT member_id AS ann FROM loyalty_enroll('sql', 'S1', 'en-a', '\x01', '13900000001', 'ann',
  NULL, '{}', '{}') \gset
SELECT points FROM loyalty_earn('sql', 'S1', 'a-1', '\x02', :ann, 'A-old', 100000);
ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;
UPDATE ledger SET created_at = now() - interval '14 months', occurred_at = now() - interval '14 months'
WHERE order_id = 'A-old';
ALTER TABLE ledger ENABLE TRIGGER ledger_append_only;
SELECT points FROM loyalty_earn('sql', 'S1', 'a-2', '\x03', :ann, 'A-new', 20000);
SELECT points FROM loyalty_refund('sql', 'S1', 'a-3', '\x04', :ann, NULL, 'A-old', '', 30000);
SELECT points FROM loyalty_refund('sql', 'S1', 'a-4', '\x05', :ann, NULL, 'A-new', '', 5000);
SELECT loyalty_rolling_spend(:ann, now() + interval '1 second') AS rolling,
       lifetime_spend_cents AS lifetime FROM members WHERE member_id = :ann;
-- A refund dated before its purchase is refused; one dated after it is kept with its date.
SELECT points FROM loyalty_refund('sql', 'S1', 'a-5', '\x06', :ann, NULL, 'A-new', '', 1000,
                                  now() - interval '1 minute');
SELECT points FROM loyalty_refund('sql', 'S1', 'a-6', '\x07', :ann, NULL, 'A-new', '', 1000,
                                  now() + interval '1 minute');
SELECT kind, amount_cents, occurred_at - created_at AS after_recorded FROM ledger
WHERE member_id = :ann AND request_id = 'a-6';
