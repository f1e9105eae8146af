-- pgbench_earn.sql - the baseline of bench/earn.sh: a plain earn as a multi-statement
-- transaction, run by pgbench on the service's own database, in tables of its own
-- (bench_ledger, bench_balance; earn.sh creates them with :members balance rows).
--   pgbench -n -c C -j 2 -T D -D members=M -f bench/pgbench_earn.sql CONNINFO
\set member random(1, :members)
\set amount random(100, 200099)
\set order random(1, 2000000000)
BEGIN;
INSERT INTO bench_ledger (member_id, kind, points, amount_cents, order_id, request_id)
  VALUES (:member, 'earn', :amount / 100, :amount, 'pgb-' || :client_id || '-' || :order,
          'pgb-req-' || :client_id || '-' || :order);
UPDATE bench_balance SET balance = balance + :amount / 100,
                         lifetime_spend_cents = lifetime_spend_cents + :amount
  WHERE member_id = :member;
COMMIT;
