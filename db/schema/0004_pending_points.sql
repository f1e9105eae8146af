-- 0004_pending_points.sql - pending points (积分待入账): an earn at a store of a channel with
-- pending days (Tmall, JD: the return window) is credited only when the buyer confirms
-- receipt (Points.ConfirmOrder) or its release date comes (Admin.ReleasePending).
--
-- Until then its points are pending: in ledger.pending_points and members.pending_points,
-- not in the balance, not in any lot, not spendable; its spend does not count toward tiers.
-- Invariants (checked after every test, and by Admin.VerifyAudit), beside 0001's:
--   members.pending_points = sum(ledger.pending_points) of the member
-- The functions are db/functions/pending.sql.

-- A pending earn: points 0, pending_points P. Its release (kind 'release', ref_txn_id the
-- earn): points P', pending_points -P'. A refund before the release: points 0,
-- pending_points -taken. Rows from before this file have 0 and hash as they did.
ALTER TABLE ledger ADD COLUMN pending_points bigint NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN pending_points bigint NOT NULL DEFAULT 0;

-- Days an earn stays pending, per channel: pending_days[channel] (loyalty.v1.Channel, 1-6);
-- 0 (the default) credits at once, as a POS till wants.
ALTER TABLE program ADD COLUMN pending_days int[] NOT NULL DEFAULT '{0,0,0,0,0,0}'
  CHECK (cardinality(pending_days) = 6 AND array_ndims(pending_days) = 1
         AND 0 <= ALL (pending_days) AND 90 >= ALL (pending_days)
         AND array_position(pending_days, NULL) IS NULL);

-- Where each pending earn stands: pending until release_on (the local date of the earn in
-- the program's time zone + the channel's pending days at the time of the earn), then
-- released (by settled_txn_id, a 'release' row) or refunded in full before that
-- (settled_txn_id, the last refund). member_id follows merges.
CREATE TABLE pending_earns (
  txn_id         bigint PRIMARY KEY REFERENCES ledger,
  member_id      bigint NOT NULL REFERENCES members,
  release_on     date NOT NULL,
  state          text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'released', 'refunded')),
  settled_txn_id bigint REFERENCES ledger,
  CHECK ((state = 'pending') = (settled_txn_id IS NULL))
);
CREATE INDEX pending_earns_due ON pending_earns (release_on, member_id) WHERE state = 'pending';
CREATE INDEX pending_earns_member ON pending_earns (member_id) WHERE state = 'pending';
-- A release names its earn: at most one per earn.
CREATE UNIQUE INDEX ledger_release ON ledger (ref_txn_id) WHERE kind = 'release';

GRANT INSERT, UPDATE ON pending_earns TO loyalty_server;
