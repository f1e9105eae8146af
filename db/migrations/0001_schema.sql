-- 0001_schema.sql - tables of the loyalty service.
--
-- Money is bigint cents, points are bigint, multipliers are integer permille (1.2 = 1200).
-- Only the functions of 0002_movements.sql write members, ledger, lots and requests.
-- Invariants (checked by the tests after every test):
--   members.balance = sum(ledger.points) of the member
--   sum(lots.remaining) of the member = greatest(members.balance, 0)

-- The program's rules: one row. Editable by HQ (program-rules issue); read on every earn.
CREATE TABLE program (
  id                      int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  points_per_yuan         int    NOT NULL DEFAULT 1      CHECK (points_per_yuan >= 0),
  senior_threshold_cents  bigint NOT NULL DEFAULT 50000,
  vip_threshold_cents     bigint NOT NULL DEFAULT 300000,
  supreme_threshold_cents bigint NOT NULL DEFAULT 800000,
  ordinary_permille       int    NOT NULL DEFAULT 1000   CHECK (ordinary_permille >= 0),
  senior_permille         int    NOT NULL DEFAULT 1000   CHECK (senior_permille >= 0),
  vip_permille            int    NOT NULL DEFAULT 1200   CHECK (vip_permille >= 0),
  supreme_permille        int    NOT NULL DEFAULT 1500   CHECK (supreme_permille >= 0),
  birthday_multiplier     int    NOT NULL DEFAULT 2      CHECK (birthday_multiplier >= 1),
  time_zone               text   NOT NULL DEFAULT 'Asia/Shanghai',
  CHECK (0 < senior_threshold_cents AND senior_threshold_cents < vip_threshold_cents
         AND vip_threshold_cents < supreme_threshold_cents)
);
INSERT INTO program DEFAULT VALUES;

-- channel: the values of loyalty.v1.Channel.
CREATE TABLE stores (
  store_id   serial PRIMARY KEY,
  store_code text NOT NULL UNIQUE,
  name       text NOT NULL,
  channel    smallint NOT NULL,
  region     text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A credential. Only the SHA-256 of the secret is kept. store_id NULL means an HQ key.
CREATE TABLE api_keys (
  key_id      text PRIMARY KEY,
  secret_hash bytea NOT NULL UNIQUE,
  store_id    int REFERENCES stores,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- tier: the values of loyalty.v1.Tier; 0 until the first purchase.
CREATE TABLE members (
  member_id            bigserial PRIMARY KEY,
  phone                text UNIQUE,
  name                 text NOT NULL DEFAULT '',
  birthday             date,
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

-- Every points movement, append-only. kind: earn, redeem, refund, cancel_redemption.
-- principal: the key_id that caused the row. store_id NULL: done by HQ.
-- ref_txn_id: a refund's earn, a cancellation's redemption.
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
  -- Each member's rows form a hash chain: row_hash = SHA-256(prev_hash || canonical row),
  -- prev_hash being the row_hash of the member's previous row (empty for the first).
  prev_hash     bytea NOT NULL,
  row_hash      bytea NOT NULL
);
CREATE INDEX ledger_member ON ledger (member_id, txn_id);
-- One earn per (member, order): the same purchase never earns twice.
CREATE UNIQUE INDEX ledger_earn_order ON ledger (member_id, order_id) WHERE kind = 'earn';
-- The refunds of an earn; and at most one cancellation per redemption.
CREATE INDEX ledger_refunds ON ledger (ref_txn_id) WHERE kind = 'refund';
CREATE UNIQUE INDEX ledger_cancellation ON ledger (ref_txn_id) WHERE kind = 'cancel_redemption';

-- A batch of points earned together, with one expiry date.
CREATE TABLE lots (
  lot_id     bigserial PRIMARY KEY,
  member_id  bigint NOT NULL REFERENCES members,
  txn_id     bigint NOT NULL REFERENCES ledger,
  points     bigint NOT NULL,
  remaining  bigint NOT NULL CHECK (remaining >= 0),
  expires_on date NOT NULL
);
CREATE INDEX lots_member ON lots (member_id, expires_on, lot_id) WHERE remaining > 0;

-- Which lots a redemption spent, so cancelling it can give them back.
CREATE TABLE redemption_lots (
  redeem_txn_id bigint NOT NULL REFERENCES ledger,
  lot_id        bigint NOT NULL REFERENCES lots,
  points        bigint NOT NULL,
  PRIMARY KEY (redeem_txn_id, lot_id)
);

-- Idempotency: one row per write request, per scope (the acting store's code, or '' for
-- HQ acting for no store), written in the transaction of the request's effect.
-- request_hash is SHA-256 of the canonical request.
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
