-- refund_by_store: which purchase a refund by order id refers to (db/functions/refund.sql,
-- loyalty_refunded_earn, called by loyalty_refund). Order ids are unique per store, so the
-- same receipt number at two stores is two purchases. By order id:
--   with original_store_code: the purchase with that order id at that store;
--   without: the acting store's purchase with that order id if there is one, else the
--     member's only purchase with it; two at other stores: LY400 "order id is ambiguous:
--     name original_store_code".
-- The member's purchases include those of members merged into it, and only those: another
-- member's purchase is never found, nor counts toward ambiguity. By transaction id: that
-- earn, if it is the member's.
\set VERBOSITY terse
INSERT INTO stores (store_code, name, channel) VALUES
  ('S1', 'store one', 1), ('S2', 'store two', 1), ('S3', 'store three', 1),
  ('S4', 'store four', 1);
SELECT member_id AS mia FROM loyalty_enroll('sql', 'S1', 'en-m', '\x01', '13900000001', 'mia',
  NULL, '{}', '{}') \gset
SELECT member_id AS ned FROM loyalty_enroll('sql', 'S1', 'en-n', '\x02', '13900000002', 'ned',
  NULL, '{}', '{}') \gset
SELECT member_id AS kim FROM loyalty_enroll('sql', 'S1', 'en-k', '\x03', '13900000003', 'kim',
  NULL, '{}', '{}') \gset
-- An earn: request_id and order id, at a store, of an amount (1 point per yuan here).
CREATE FUNCTION earn(p_store text, p_request text, p_member bigint, p_order text,
                     p_amount bigint) RETURNS bigint
LANGUAGE sql AS $$
  SELECT points FROM loyalty_earn('sql', p_store, p_request,
                                  sha256(convert_to(p_request, 'UTF8')), p_member, p_order,
                                  p_amount)
$$;
-- A refund, and the purchase it refunded: its store, order id, amount and member.
CREATE FUNCTION refund(p_store text, p_request text, p_member bigint, p_txn bigint,
                       p_order text, p_original text, p_amount bigint)
RETURNS TABLE (refund_points bigint, earn_store text, earn_order text, earn_amount bigint,
               earner text)
LANGUAGE plpgsql AS $$
DECLARE
  r points_result := loyalty_refund('sql', p_store, p_request,
                                    sha256(convert_to(p_request, 'UTF8')), p_member, p_txn,
                                    p_order, p_original, p_amount);
BEGIN
  RETURN QUERY
  SELECT r.points, s.store_code, e.order_id, e.amount_cents, m.name
  FROM ledger l JOIN ledger e ON e.txn_id = l.ref_txn_id
  JOIN stores s ON s.store_id = e.store_id JOIN members m ON m.member_id = e.member_id
  WHERE l.txn_id = r.txn_id;
END $$;
-- mia: R-1 at S1 (100 yuan) and at S2 (300 yuan), R-2 at S2 (200), R-3 at S1 (400).
-- ned: R-3 at S2 (500). kim: R-9 at S1 (150), R-4 at S3 (250), R-1 at S3 (50).
-- Every earn is 1 point per yuan (mia becomes senior at 600 yuan, still x1), and every
-- refund below is of 10 yuan: floor(P x R / A) gives 10 points each time.
SELECT earn('S1', 'e-1', :mia, 'R-1', 10000), earn('S2', 'e-2', :mia, 'R-1', 30000),
       earn('S2', 'e-3', :mia, 'R-2', 20000), earn('S1', 'e-4', :mia, 'R-3', 40000),
       earn('S2', 'e-5', :ned, 'R-3', 50000),
       earn('S1', 'e-6', :kim, 'R-9', 15000), earn('S3', 'e-7', :kim, 'R-4', 25000),
       earn('S3', 'e-8', :kim, 'R-1', 5000);
SELECT txn_id AS ned_r3 FROM ledger WHERE member_id = :ned AND order_id = 'R-3' \gset
SELECT txn_id AS mia_r1_s2 FROM ledger l JOIN stores s USING (store_id)
WHERE l.member_id = :mia AND l.order_id = 'R-1' AND s.store_code = 'S2' \gset

-- 1. No original store named.
-- R-1 at S1 and at S2: the acting store's. S1 -> S1's (100 yuan); S2 -> S2's (300 yuan).
SELECT * FROM refund('S1', 'f-1', :mia, NULL, 'R-1', '', 1000);
SELECT * FROM refund('S2', 'f-2', :mia, NULL, 'R-1', '', 1000);
-- R-1 from S3, which has none of mia's: two candidates, ambiguous.
SELECT * FROM refund('S3', 'f-3', :mia, NULL, 'R-1', '', 1000);
-- R-2, only at S2: found from S3 and from S1 (10 yuan each: 20 yuan refunded of 200).
SELECT * FROM refund('S3', 'f-4', :mia, NULL, 'R-2', '', 1000);
SELECT * FROM refund('S1', 'f-5', :mia, NULL, 'R-2', '', 1000);
-- R-3 from S2: ned's R-3 is at S2, but only mia's purchases count: her R-3 at S1, and
-- ned's makes it neither ambiguous nor is it taken.
SELECT * FROM refund('S2', 'f-6', :mia, NULL, 'R-3', '', 1000);
-- An order id mia never used: not found.
SELECT * FROM refund('S1', 'f-7', :mia, NULL, 'R-404', '', 1000);

-- 2. With original_store_code.
-- From S3, naming S2: S2's R-1. From S1, naming S2: S2's, not the acting store's.
SELECT * FROM refund('S3', 'f-8', :mia, NULL, 'R-1', 'S2', 1000);
SELECT * FROM refund('S1', 'f-9', :mia, NULL, 'R-1', 'S2', 1000);
-- R-2 naming S1, where it was not bought: not found (even though S2 has it).
SELECT * FROM refund('S3', 'f-10', :mia, NULL, 'R-2', 'S1', 1000);
-- An unknown store: store not found.
SELECT * FROM refund('S1', 'f-11', :mia, NULL, 'R-1', 'NOPE', 1000);

-- 3. By transaction id: mia's R-1 at S2 from S3 (no ambiguity: the earn is named); ned's
-- earn is not mia's: not found.
SELECT * FROM refund('S3', 'f-12', :mia, :mia_r1_s2, NULL, '', 1000);
SELECT * FROM refund('S1', 'f-13', :mia, :ned_r3, NULL, '', 1000);

-- 4. kim is merged into mia: kim's purchases are now mia's to refund. kim's 450 points join
-- mia's 1000 - 8 x 10 = 920: 1370; spend 920 + 450 yuan: senior.
SELECT points, balance, tier FROM loyalty_merge_members('hq', '', 'mg-1', '\x04', :mia, :kim);
-- R-9, only kim's, from S2: kim's.
SELECT * FROM refund('S2', 'f-14', :mia, NULL, 'R-9', '', 1000);
-- R-1 from S3: kim's R-1 is the acting store's now (it was ambiguous before the merge).
SELECT * FROM refund('S3', 'f-15', :mia, NULL, 'R-1', '', 1000);
-- R-4 naming S3: kim's.
SELECT * FROM refund('S1', 'f-16', :mia, NULL, 'R-4', 'S3', 1000);
-- R-1 from S4: three candidates (S1, S2, kim's S3), ambiguous.
SELECT * FROM refund('S4', 'f-17', :mia, NULL, 'R-1', '', 1000);
-- Refunding on kim himself: closed.
SELECT * FROM refund('S3', 'f-18', :kim, NULL, 'R-4', '', 1000);

-- 5. Every purchase and what was refunded of it: mia's R-1 at S1 once (f-1); at S2 four
-- times (f-2, f-8, f-9, f-12); R-2 twice (f-4, f-5); R-3 once (f-6); ned's R-3 never; kim's
-- three once each (f-14, f-15, f-16). 10 points per refund: 110 in all.
SELECT s.store_code, e.order_id, m.name AS earner, e.amount_cents, e.points,
       coalesce(sum(r.amount_cents), 0) AS refunded, coalesce(-sum(r.points), 0) AS taken,
       count(r.txn_id) AS refunds, string_agg(DISTINCT rm.name, ',') AS refunded_on
FROM ledger e JOIN stores s USING (store_id) JOIN members m ON m.member_id = e.member_id
LEFT JOIN ledger r ON r.ref_txn_id = e.txn_id AND r.kind = 'refund'
LEFT JOIN members rm ON rm.member_id = r.member_id
WHERE e.kind = 'earn'
GROUP BY e.txn_id, s.store_code, m.name ORDER BY e.txn_id;
-- mia: 1000 of her own + 450 of kim's - 110 = 1340, and her lots hold all of it; kim: 0,
-- and no lots (they moved to mia); ned: 500, untouched.
SELECT m.name, m.balance, (SELECT sum(remaining) FROM lots l WHERE l.member_id = m.member_id)
       AS in_lots, m.merged_into IS NOT NULL AS merged
FROM members m ORDER BY m.name;
