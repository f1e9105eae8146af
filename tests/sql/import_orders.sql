-- import_orders: a batch of imported orders (db/functions/import.sql, loyalty_import), the
-- rules a real file meets: a purchase is an earn with the file's points (a lot expiring as an
-- earn's would, already expired if its date has passed), counted for spend and tier (reason
-- import); a refund takes back its purchase's points in proportion; a refund must come after
-- its purchase in the file and be the same member's; a row key seen twice is skipped (a
-- purchase whose order is another member's is rejected); a merged member's row is rejected;
-- the same batch again changes nothing; a dry run changes nothing.
\set VERBOSITY terse
INSERT INTO stores (store_code, name, channel) VALUES ('S1', 'store one', 1);
INSERT INTO members (phone, name) VALUES ('13900000001', 'ann'), ('13900000002', 'bob'),
  ('13900000003', 'cat');
INSERT INTO identities (kind, value, member_id)
  SELECT 'pos_card', 'b', member_id FROM members WHERE name = 'bob';
UPDATE members SET merged_into = (SELECT member_id FROM members WHERE name = 'ann')
  WHERE name = 'cat';
-- One batch: lines and their fields (store, order_id, kind, member, cents, occurred_at, points),
-- sent as loyaltyd sends them: an array of columns.
CREATE FUNCTION import(p_sha text, p_dry_run boolean, p_rows text[])
RETURNS TABLE (imported bigint, skipped bigint, amount bigint, points bigint, last_line bigint,
               rejected text)
LANGUAGE sql AS $$
  SELECT imported, skipped, imported_amount_cents, imported_points, last_line,
         array_to_string(ARRAY(SELECT l || ': ' || r
                               FROM unnest(rejected_lines, rejected_reasons) AS t(l, r)), E'\n')
  FROM loyalty_import('sql', 'orders', repeat(p_sha, 64), '', p_dry_run,
                      ARRAY(SELECT generate_series(2, array_length(p_rows, 1) + 1))::bigint[],
                      ARRAY(SELECT ARRAY(SELECT p_rows[r][c] FROM generate_subscripts(p_rows, 1) r
                                         ORDER BY r)
                            FROM generate_series(1, array_length(p_rows, 2)) c ORDER BY c),
                      '{}', '{}')
$$;
CREATE VIEW movements AS
  SELECT m.name, l.kind, l.points, l.amount_cents, l.balance_after, l.tier_after, l.order_id,
         CASE WHEN l.kind = 'expiry' THEN 'expired' ELSE l.reason END AS reason
  FROM ledger l JOIN members m USING (member_id) ORDER BY l.txn_id;
CREATE VIEW state AS
  SELECT name, balance, tier, lifetime_spend_cents, first_purchase_at,
         (SELECT coalesce(sum(remaining), 0) FROM lots t WHERE t.member_id = m.member_id) AS lots
  FROM members m ORDER BY member_id;

SELECT * FROM import('a', false, ARRAY[
  ['S1', 'O1', 'purchase', '13900000001', '100000', '2024-01-01T10:00:00+08:00', '100'],
  ['S1', 'O1', 'refund',   '13900000001', '30000',  '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O2', 'refund',   'pos_card:b',  '5000',   '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', 'pos_card:b',  '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', 'pos_card:b',  '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', '13900000001', '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O1', 'purchase', 'pos_card:b',  '100000', '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O3', 'purchase', '13900000003', '7000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O1', 'refund',   'pos_card:b',  '100',    '2024-01-05T10:00:00+08:00', '0'],
  ['S1', 'O1', 'refund',   '13900000001', '30000',  '2024-01-03T10:00:00+08:00', '0'],
  ['S2', 'O9', 'purchase', '13900000001', '100',    '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O8', 'purchase', 'id:999999',   '100',    '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O4', 'purchase', '13900000001', '490000', '2024-02-01T10:00:00+08:00', '0']]);
SELECT * FROM movements;
SELECT * FROM state;
SELECT member_id IS NOT NULL AS someone, old_tier, new_tier, reason FROM tier_changes
  ORDER BY change_id;

-- Points that never expire, refunded in part: the earn's own lot gives them back.
UPDATE program SET expiry_policy = 'never';
SELECT * FROM import('b', false, ARRAY[
  ['S1', 'O5', 'purchase', 'id:' || (SELECT member_id FROM members WHERE name = 'bob'), '10000',
   '2024-03-01T10:00:00+08:00', '10'],
  ['S1', 'O5', 'refund', 'pos_card:b', '3333', '2024-03-02T10:00:00+08:00', '0']]);
SELECT * FROM movements WHERE name = 'bob';
SELECT points, remaining, expires_on FROM lots
  WHERE member_id = (SELECT member_id FROM members WHERE name = 'bob');

-- The same batch again: every line done before, its rejections reported again.
SELECT * FROM import('a', false, ARRAY[
  ['S1', 'O1', 'purchase', '13900000001', '100000', '2024-01-01T10:00:00+08:00', '100'],
  ['S1', 'O1', 'refund',   '13900000001', '30000',  '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O2', 'refund',   'pos_card:b',  '5000',   '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', 'pos_card:b',  '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', 'pos_card:b',  '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O2', 'purchase', '13900000001', '5000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O1', 'purchase', 'pos_card:b',  '100000', '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O3', 'purchase', '13900000003', '7000',   '2024-01-01T10:00:00+08:00', '0'],
  ['S1', 'O1', 'refund',   'pos_card:b',  '100',    '2024-01-05T10:00:00+08:00', '0'],
  ['S1', 'O1', 'refund',   '13900000001', '30000',  '2024-01-03T10:00:00+08:00', '0'],
  ['S2', 'O9', 'purchase', '13900000001', '100',    '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O8', 'purchase', 'id:999999',   '100',    '2024-01-03T10:00:00+08:00', '0'],
  ['S1', 'O4', 'purchase', '13900000001', '490000', '2024-02-01T10:00:00+08:00', '0']]);
-- A new file with a row already there: skipped by its key. And a dry run writes nothing.
SELECT * FROM import('c', false, ARRAY[
  ['S1', 'O4', 'purchase', '13900000001', '490000', '2024-02-01T10:00:00+08:00', '0']]);
SELECT count(*) AS ledger_rows FROM ledger \gset
SELECT * FROM import('d', true, ARRAY[
  ['S1', 'O6', 'purchase', '13900000002', '990000', '2024-02-01T10:00:00+08:00', '0']]);
SELECT count(*) = :ledger_rows AS unchanged FROM ledger;
SELECT kind, last_line, imported, skipped, rejected FROM import_runs ORDER BY run_id;
