-- 0003_business_time_rules.sql - the program's rules as they were at a moment.
--
-- A late sale earns under the rules in force when it happened (loyalty_program_at,
-- db/functions/program.sql): those are the rules a change replaced, the old_rules of the
-- first change after that moment. old_rules is program's row as text, whose shape changes
-- whenever program gains a column; old_rules_json keeps the same row by field name, so a
-- field added later is simply absent (and read as today's value).

ALTER TABLE program_changes ADD COLUMN old_rules_json jsonb;

-- Changes made before this file: their text read back as program's row. A change from before
-- 0002 has no max_backdate_days, which was then the default, 30.
ALTER TABLE program_changes DISABLE TRIGGER USER;  -- append-only (triggers.sql): the owner's backfill
DO $$
DECLARE
  c record;
  v program;
BEGIN
  FOR c IN SELECT change_id, old_rules FROM program_changes LOOP
    BEGIN
      v := c.old_rules::program;
    EXCEPTION WHEN invalid_text_representation THEN
      v := (left(c.old_rules, -1) || ',30)')::program;
    END;
    UPDATE program_changes SET old_rules_json = to_jsonb(v) WHERE change_id = c.change_id;
  END LOOP;
END $$;
ALTER TABLE program_changes ENABLE TRIGGER USER;
ALTER TABLE program_changes ALTER COLUMN old_rules_json SET NOT NULL;

-- The first change after a moment, found with one probe; "none" is the common case.
CREATE INDEX program_changes_changed_at ON program_changes (changed_at);
