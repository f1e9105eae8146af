-- 0004_phone_access.sql - a member's phone is personal data: stores see it masked
-- (138****1234) unless HQ grants the store the right to see it in full.
ALTER TABLE stores ADD COLUMN sees_full_phone boolean NOT NULL DEFAULT false;
