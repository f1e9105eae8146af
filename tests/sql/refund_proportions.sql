-- refund_proportions: refunds take back points in proportion, never more than the earn gave.
-- After refunds totalling R of an earn of amount A that gave P points, the points taken back
-- in total are floor(P * R / A); each refund takes the difference. So three partial refunds
-- take back exactly what one full refund takes.
-- (Terse errors: no CONTEXT lines naming lines of the stored functions.)
\set VERBOSITY terse
INSERT INTO stores (store_code, name, channel) VALUES ('SQL01', 'sql test store', 1);
-- Two members, each with one purchase of 333.33 yuan: 333 points.
SELECT member_id AS whole FROM loyalty_enroll('sql', 'SQL01', 'en-1', '\x01', '13900000001',
  'refunded at once', NULL, '{}', '{}') \gset
SELECT member_id AS parts FROM loyalty_enroll('sql', 'SQL01', 'en-2', '\x02', '13900000002',
  'refunded in three parts', NULL, '{}', '{}') \gset
SELECT points, balance, tier FROM loyalty_earn('sql', 'SQL01', 'e-1', '\x03', :whole,
  'R-0001', 33333);
SELECT points, balance, tier FROM loyalty_earn('sql', 'SQL01', 'e-2', '\x04', :parts,
  'R-0002', 33333);
-- One full refund takes all 333.
SELECT points, balance, tier FROM loyalty_refund('sql', 'SQL01', 'f-1', '\x05', :whole, NULL,
  'R-0001', '', 33333);
-- Three of 100, 100 and 133.33 yuan: floor(333 x 10000 / 33333) = 99, then
-- floor(333 x 20000 / 33333) - 99 = 199 - 99 = 100, then 333 - 199 = 134.
SELECT points, balance FROM loyalty_refund('sql', 'SQL01', 'f-2', '\x06', :parts, NULL,
  'R-0002', '', 10000);
SELECT points, balance FROM loyalty_refund('sql', 'SQL01', 'f-3', '\x07', :parts, NULL,
  'R-0002', '', 10000);
SELECT points, balance FROM loyalty_refund('sql', 'SQL01', 'f-4', '\x08', :parts, NULL,
  'R-0002', '', 13333);
-- Nothing is left to refund.
SELECT points FROM loyalty_refund('sql', 'SQL01', 'f-5', '\x09', :parts, NULL, 'R-0002', '', 1);
-- Each refund against the rule: in total, floor(P * R / A) (rounding each refund alone
-- would take back 331).
SELECT l.amount_cents AS refunded, sum(l.amount_cents) OVER w AS refunded_in_all,
       -l.points AS taken, -sum(l.points) OVER w AS taken_in_all,
       div(333 * sum(l.amount_cents) OVER w, 33333) AS floor_p_r_over_a,
       div(333 * l.amount_cents, 33333) AS floor_alone
FROM ledger l WHERE l.member_id = :parts AND l.kind = 'refund'
WINDOW w AS (ORDER BY l.txn_id) ORDER BY l.txn_id;
-- Both members end where they started.
SELECT name, balance, lifetime_spend_cents, tier,
       (SELECT -sum(points) FROM ledger l WHERE l.member_id = m.member_id
        AND l.kind = 'refund') AS taken_back
FROM members m ORDER BY name;
