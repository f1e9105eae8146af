-- 0006_server_role.sql - least privilege: loyaltyd can run as the role loyalty_server, which
-- may insert into the ledger but never update, delete or truncate it (nor lift its
-- append-only trigger: that takes the owner). Migrations run as the owner.
--
-- Deployments give the role a password (ALTER ROLE loyalty_server PASSWORD '...') and point
-- loyaltyd's --db at it, with --db-owner for migrations.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'loyalty_server') THEN
    CREATE ROLE loyalty_server LOGIN;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO loyalty_server;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO loyalty_server;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO loyalty_server;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO loyalty_server;
-- Append-only: the ledger takes inserts only.
GRANT INSERT ON ledger TO loyalty_server;
-- What the movements and HQ's admin calls change.
GRANT INSERT, UPDATE ON members, lots, stores, api_keys TO loyalty_server;
GRANT INSERT ON identities, redemption_lots, requests TO loyalty_server;

-- Tables and sequences of later migrations are readable by the server too; each grants
-- its writes explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO loyalty_server;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO loyalty_server;
