-- 0006_import_parts.sql - an import run may be sent as several parts at once
-- (loyaltyctl import --jobs; db/functions/import.sql).
--
-- loyaltyctl splits a file's rows by member into parts and sends each part's batches on a
-- connection of its own, so that two batches on two connections never wait for each other's
-- members. Each part is a run of its own, resumed after its own last line: part is '' for a
-- file sent whole, 'K/N' for the K-th of N parts.
ALTER TABLE import_runs ADD COLUMN part text NOT NULL DEFAULT '';
ALTER TABLE import_runs DROP CONSTRAINT import_runs_kind_file_sha256_key;
ALTER TABLE import_runs ADD CONSTRAINT import_runs_key UNIQUE (kind, file_sha256, part);
