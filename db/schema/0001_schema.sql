-- 0001_schema.sql - the tables of the loyalty service, their indexes and grants.
--
-- Folded on 2026-11-23 from the sixteen migrations written while the service was built
-- (no deployed database had to be upgraded). From here on schema files are append-only:
-- loyaltyd records each applied file's SHA-256 and refuses a database whose applied file
-- differs. A change is a new file, 0002_..., never an edit of this one.
--
-- Stored functions and triggers live in db/functions/, one file per concept, applied as a
-- versioned set after the schema files (server/migrate.c).
--
-- Money is bigint cents, points are bigint, multipliers are integer permille (1.2 = 1200).
-- Only the stored functions write members, ledger, lots and requests.
-- Invariants (checked by the tests after every test, and by Admin.VerifyAudit):
--   members.balance = sum(ledger.points) of the member
--   sum(lots.remaining) of the member = greatest(members.balance, 0)

-- The program's rules: one row, edited by HQ (loyalty_update_program), read on every earn.
CREATE TABLE program (
  id                      int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  points_per_yuan         int    NOT NULL DEFAULT 1 CHECK (points_per_yuan BETWEEN 0 AND 100),
  senior_threshold_cents  bigint NOT NULL DEFAULT 50000,
  vip_threshold_cents     bigint NOT NULL DEFAULT 300000,
  supreme_threshold_cents bigint NOT NULL DEFAULT 800000,
  ordinary_permille       int    NOT NULL DEFAULT 1000,
  senior_permille         int    NOT NULL DEFAULT 1000,
  vip_permille            int    NOT NULL DEFAULT 1200,
  supreme_permille        int    NOT NULL DEFAULT 1500,
  birthday_multiplier     int    NOT NULL DEFAULT 2 CHECK (birthday_multiplier BETWEEN 1 AND 10),
  time_zone               text   NOT NULL DEFAULT 'Asia/Shanghai',
  -- Below this paid amount a purchase earns no points (it still counts toward tiers).
  min_paid_cents          bigint NOT NULL DEFAULT 0 CHECK (min_paid_cents >= 0),
  -- When earned points expire: end of the following calendar year, N months after the
  -- earn, or never. A change applies to lots earned from then on.
  expiry_policy           text   NOT NULL DEFAULT 'year_end'
                                 CHECK (expiry_policy IN ('year_end', 'rolling', 'never')),
  expiry_months           int    NOT NULL DEFAULT 24 CHECK (expiry_months BETWEEN 1 AND 120),
  -- What tiers follow: lifetime net spend, or the net spend of the last 12 months with a
  -- yearly review (db/functions/tiers.sql).
  tier_policy             text   NOT NULL DEFAULT 'lifetime'
                                 CHECK (tier_policy IN ('lifetime', 'rolling')),
  CHECK (0 < senior_threshold_cents AND senior_threshold_cents < vip_threshold_cents
         AND vip_threshold_cents < supreme_threshold_cents),
  CHECK (least(ordinary_permille, senior_permille, vip_permille, supreme_permille) >= 0
         AND greatest(ordinary_permille, senior_permille, vip_permille, supreme_permille)
             <= 10000)
);
INSERT INTO program DEFAULT VALUES;

-- Every change of the program: the rows before and after, as text.
CREATE TABLE program_changes (
  change_id  bigserial PRIMARY KEY,
  principal  text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  old_rules  text NOT NULL,
  new_rules  text NOT NULL
);

-- channel: the values of loyalty.v1.Channel. A store whose keys see members' phones in full
-- (sees_full_phone); others see them masked (138****1234).
CREATE TABLE stores (
  store_id        serial PRIMARY KEY,
  store_code      text NOT NULL UNIQUE,
  name            text NOT NULL,
  channel         smallint NOT NULL,
  region          text NOT NULL DEFAULT '',
  sees_full_phone boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- A credential. Only the SHA-256 of the secret is kept. store_id NULL means an HQ key, whose
-- name is its operator's. A key is rotated by issuing a new one for the same store or
-- operator; the old one works until it is revoked or expires.
CREATE TABLE api_keys (
  key_id      text PRIMARY KEY,
  secret_hash bytea NOT NULL UNIQUE,
  store_id    int REFERENCES stores,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz
);

-- tier: the values of loyalty.v1.Tier; 0 until the first purchase.
CREATE TABLE members (
  member_id            bigserial PRIMARY KEY,
  phone                text UNIQUE,
  name                 text NOT NULL DEFAULT '',
  birthday             date,
  birthday_changed_at  timestamptz,  -- the last change of a known birthday (once a year)
  tier                 smallint NOT NULL DEFAULT 0,
  balance              bigint NOT NULL DEFAULT 0,
  lifetime_spend_cents bigint NOT NULL DEFAULT 0,
  enrolled_store_id    int REFERENCES stores,
  first_purchase_at    timestamptz,  -- NULL until the first purchase: tier 0 until then
  ledger_head          bytea,        -- row_hash of the member's last ledger row
  merged_into          bigint,       -- closed: HQ merged this member into that one
  created_at           timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);  -- room for HOT updates of the balance

CREATE TABLE identities (
  kind      text NOT NULL,
  value     text NOT NULL,
  member_id bigint NOT NULL REFERENCES members,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);
CREATE INDEX identities_member ON identities (member_id);

-- Every points movement, append-only (db/functions/triggers.sql). kind: earn, redeem,
-- refund, cancel_redemption, adjustment, expiry, merge_out, merge_in.
-- principal: the key_id that caused the row ("key_id:operator" for HQ keys).
-- store_id NULL: done by HQ for no store. ref_txn_id: a refund's earn, a cancellation's
-- redemption, a merge_in's merge_out.
CREATE TABLE ledger (
  txn_id        bigserial PRIMARY KEY,
  member_id     bigint NOT NULL REFERENCES members,
  kind          text NOT NULL,
  points        bigint NOT NULL,
  amount_cents  bigint NOT NULL DEFAULT 0,
  store_id      int REFERENCES stores,
  principal     text NOT NULL,
  request_id    text NOT NULL,
  order_id      text NOT NULL DEFAULT '',
  reason        text NOT NULL DEFAULT '',
  ref_txn_id    bigint REFERENCES ledger,
  balance_after bigint NOT NULL,
  tier_after    smallint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- Each member's rows form a hash chain (db/functions/ledger.sql): row_hash =
  -- SHA-256(prev_hash || canonical row), prev_hash being the row_hash of the member's
  -- previous row (empty for the first).
  prev_hash     bytea NOT NULL,
  row_hash      bytea NOT NULL,
  CHECK (kind <> 'earn' OR store_id IS NOT NULL)
);
CREATE INDEX ledger_member ON ledger (member_id, txn_id);
-- One earn per (store, order): the same purchase never earns twice, and the same receipt
-- number at two stores is two purchases. Order id first: a refund by order id finds the
-- purchases with it at every store.
CREATE UNIQUE INDEX ledger_earn_order ON ledger (order_id, store_id) WHERE kind = 'earn';
-- The refunds of an earn; and at most one cancellation per redemption.
CREATE INDEX ledger_refunds ON ledger (ref_txn_id) WHERE kind = 'refund';
CREATE UNIQUE INDEX ledger_cancellation ON ledger (ref_txn_id) WHERE kind = 'cancel_redemption';

-- Points earned together, with one expiry date.
CREATE TABLE lots (
  lot_id     bigserial PRIMARY KEY,
  member_id  bigint NOT NULL REFERENCES members,
  txn_id     bigint NOT NULL REFERENCES ledger,
  points     bigint NOT NULL,
  remaining  bigint NOT NULL CHECK (remaining >= 0),
  expires_on date NOT NULL
);
CREATE INDEX lots_member ON lots (member_id, expires_on, lot_id) WHERE remaining > 0;
CREATE INDEX lots_expiring ON lots (expires_on, member_id) WHERE remaining > 0;

-- Which lots a redemption spent, so cancelling it can give them back.
CREATE TABLE redemption_lots (
  redeem_txn_id bigint NOT NULL REFERENCES ledger,
  lot_id        bigint NOT NULL REFERENCES lots,
  points        bigint NOT NULL,
  PRIMARY KEY (redeem_txn_id, lot_id)
);

-- Idempotency (db/functions/requests.sql): one row per write request, per scope (the acting
-- store's code, or '' for HQ acting for no store), written in the transaction of the
-- request's effect. request_hash is SHA-256 of the request as protobuf-c packs it.
CREATE TABLE requests (
  scope        text NOT NULL,
  request_id   text NOT NULL,
  method       text NOT NULL,
  request_hash bytea NOT NULL,
  member_id    bigint NOT NULL,
  txn_id       bigint,               -- the ledger row of a points movement
  tier_changed boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, request_id)
);

-- Every tier change of a member with its reason: purchase, refund, merge, review, or
-- "hq: <reason>". Written by a trigger (db/functions/triggers.sql).
CREATE TABLE tier_changes (
  change_id  bigserial PRIMARY KEY,
  member_id  bigint NOT NULL REFERENCES members,
  changed_at timestamptz NOT NULL DEFAULT now(),
  old_tier   smallint NOT NULL,
  new_tier   smallint NOT NULL,
  reason     text NOT NULL
);
CREATE INDEX tier_changes_member ON tier_changes (member_id, change_id);

-- One yearly tier review per date (Admin.EvaluateTiers).
CREATE TABLE tier_reviews (
  as_of         date PRIMARY KEY,
  principal     text NOT NULL,
  done_at       timestamptz NOT NULL DEFAULT now(),
  members_moved int NOT NULL DEFAULT 0
);

-- Campaigns: a multiplier (双11 on Tmall x3) or a fixed bonus for a window of time,
-- optionally only at some stores, channels or tiers (db/functions/campaigns.sql).
CREATE TABLE campaigns (
  campaign_id         serial PRIMARY KEY,
  name                text NOT NULL,
  multiplier_permille int NOT NULL DEFAULT 1000 CHECK (multiplier_permille BETWEEN 1000 AND 10000),
  bonus_points        bigint NOT NULL DEFAULT 0 CHECK (bonus_points BETWEEN 0 AND 1000000),
  starts_at           timestamptz NOT NULL,
  ends_at             timestamptz NOT NULL,  -- exclusive
  store_codes         text[] NOT NULL DEFAULT '{}',      -- empty: every store
  channels            smallint[] NOT NULL DEFAULT '{}',  -- empty: every channel
  tiers               smallint[] NOT NULL DEFAULT '{}',  -- empty: every tier
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  ended_at            timestamptz,                       -- ended early by HQ
  CHECK (ends_at > starts_at),
  CHECK (multiplier_permille > 1000 OR bonus_points > 0)
);
CREATE INDEX campaigns_live ON campaigns (ends_at) WHERE ended_at IS NULL;

-- The admin audit log: every change HQ makes (stores, keys, program, campaigns, tiers,
-- merges), who made it and when. Append-only and hash-chained like the ledger; admin changes
-- are few, so one chain (its head locked while a row is added) serves them all.
-- store_code: the store the change concerns ('' for none), so the trail of a store is one
-- filter.
CREATE TABLE admin_audit (
  audit_id   bigserial PRIMARY KEY,
  principal  text NOT NULL,   -- key_id:operator, or "bootstrap" for --init-hq-key
  action     text NOT NULL,   -- create_store, issue_key, rotate_key, revoke_key, ...
  subject    text NOT NULL,   -- the store_code, key_id, member or campaign acted on
  store_code text NOT NULL DEFAULT '',
  detail     text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  prev_hash  bytea NOT NULL,
  row_hash   bytea NOT NULL
);
CREATE INDEX admin_audit_store ON admin_audit (store_code) WHERE store_code <> '';
CREATE TABLE admin_audit_head (
  id   int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  head bytea NOT NULL DEFAULT ''
);
INSERT INTO admin_audit_head DEFAULT VALUES;

-- What every points movement answers (loyalty.v1.PointsResult).
CREATE TYPE points_result AS (
  txn_id       bigint,
  points       bigint,
  balance      bigint,
  tier         smallint,
  tier_changed boolean,
  replayed     boolean
);

-- Least privilege: loyaltyd runs as loyalty_server, which may insert into the ledger and the
-- audit trails but never update, delete or truncate them (nor lift their append-only
-- triggers: that takes the owner, who runs the schema and function files). Deployments give
-- the role a password (ALTER ROLE loyalty_server PASSWORD '...') and point loyaltyd's --db at
-- it, with --db-owner for the schema.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'loyalty_server') THEN
    CREATE ROLE loyalty_server LOGIN;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO loyalty_server;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO loyalty_server;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO loyalty_server;
-- Append-only: these take inserts only.
GRANT INSERT ON ledger, admin_audit, program_changes, tier_changes TO loyalty_server;
-- What the movements and HQ's calls change.
GRANT INSERT, UPDATE ON members, lots, stores, api_keys, identities, campaigns, tier_reviews
  TO loyalty_server;
GRANT INSERT ON redemption_lots, requests TO loyalty_server;
GRANT UPDATE ON program, admin_audit_head TO loyalty_server;
-- Tables and sequences of later schema files are readable by the server; each file grants
-- its writes explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO loyalty_server;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO loyalty_server;
