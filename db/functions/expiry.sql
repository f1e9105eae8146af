-- expiry.sql - when points expire, and the expiry run.

-- The last day of a lot earned on p_day, under the program's expiry policy: the end of the
-- following calendar year (year_end), p.expiry_months later (rolling), or never.
CREATE OR REPLACE FUNCTION loyalty_lot_expiry(p program, p_day date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p.expiry_policy
           WHEN 'never' THEN 'infinity'::date
           WHEN 'rolling' THEN (p_day + make_interval(months => p.expiry_months))::date
           ELSE make_date(extract(year FROM p_day)::int + 1, 12, 31)
         END
$$;

-- The business day of a moment, in the program's time zone.
CREATE OR REPLACE FUNCTION loyalty_local_date(p program, p_at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$ SELECT (p_at AT TIME ZONE p.time_zone)::date $$;

-- Expires p_member's (locked, as it is now) lots whose last day is before p_as_of: one
-- expiry ledger row for all of them. Returns how many lots and points; 0 when there were
-- none (a concurrent run got here first). RunExpiry's and the import's (import.sql) one way.
CREATE OR REPLACE FUNCTION loyalty_expire_member(p_member members, p_principal text,
                                                 p_as_of date, OUT lots int, OUT points bigint)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT coalesce(sum(remaining), 0), count(*) INTO points, lots FROM lots
  WHERE member_id = p_member.member_id AND remaining > 0 AND expires_on < p_as_of;
  IF points > 0 THEN
    PERFORM loyalty_move(p_member, loyalty_ledger_row(
      'expiry', -points, p_member.balance - points, p_member.tier, p_principal,
      'expiry-' || p_as_of, p_reason => 'expired before ' || p_as_of), 0);
    UPDATE lots SET remaining = 0
    WHERE member_id = p_member.member_id AND remaining > 0 AND expires_on < p_as_of;
  ELSE
    lots := 0;
  END IF;
END $$;

-- Expires the lots, last day before p_as_of, of up to p_limit members after p_after_member
-- (by member_id), each member under its row lock: a run repeated, or two runs at once,
-- expire each lot once. A member with a negative balance has no points left in lots, so
-- nothing to expire. A member merged while the run waited for its lock is skipped: its lots
-- went to the kept member, whose expired lots the next run finds. Returns where it stopped
-- and what it did; loyaltyd calls it until members_done is 0, one transaction per call.
CREATE OR REPLACE FUNCTION loyalty_expire(p_principal text, p_as_of date,
                                          p_after_member bigint, p_limit int,
                                          OUT last_member bigint, OUT members_done int,
                                          OUT lots_expired int, OUT points_expired bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_member members;
  v_done record;
  v_member_id bigint;
BEGIN
  last_member := p_after_member;
  members_done := 0;
  lots_expired := 0;
  points_expired := 0;
  FOR v_member_id IN
    SELECT DISTINCT member_id FROM lots
    WHERE remaining > 0 AND expires_on < p_as_of AND member_id > p_after_member
    ORDER BY member_id LIMIT p_limit
  LOOP
    members_done := members_done + 1;
    last_member := v_member_id;
    SELECT * INTO STRICT v_member FROM members WHERE member_id = v_member_id FOR UPDATE;
    CONTINUE WHEN v_member.merged_into IS NOT NULL;
    v_done := loyalty_expire_member(v_member, p_principal, p_as_of);
    lots_expired := lots_expired + v_done.lots;
    points_expired := points_expired + v_done.points;
  END LOOP;
END $$;
