-- pending_dates: when pending points are released (db/functions/pending.sql,
-- loyalty_pending_release_on): the local date of the sale in the program's time zone plus
-- the pending days of the store's channel (program.pending_days[channel]); NULL (credited at
-- once) for a channel with 0 days, and for CHANNEL_UNSPECIFIED (0), which has no element.
\set VERBOSITY terse
-- The program with other pending days and time zone: a modified copy of the row.
CREATE FUNCTION program_with(p_days int[], p_zone text) RETURNS program
LANGUAGE plpgsql AS $$
DECLARE
  p program;
BEGIN
  SELECT * INTO STRICT p FROM program;
  p.pending_days := p_days;
  p.time_zone := p_zone;
  RETURN p;
END $$;
-- The default: no channel pending.
SELECT pending_days FROM program;

-- 1. POS 0, Tmall 15, JD 7, others 0, in Asia/Shanghai (UTC+8): a sale at 2026-11-11 15:59
-- UTC is 23:59 on the 11th locally -> Tmall 2026-11-26, JD 2026-11-18; at 16:00 UTC it is
-- the 12th -> 2026-11-27, 2026-11-19. POS, WeChat, web, other and channel 0: NULL.
SELECT c.channel, c.at, loyalty_pending_release_on(
         program_with('{0,15,7,0,0,0}', 'Asia/Shanghai'), c.channel::smallint, c.at) AS release_on
FROM (VALUES (1, '2026-11-11 15:59:59+00'::timestamptz), (2, '2026-11-11 15:59:59+00'),
             (3, '2026-11-11 15:59:59+00'), (2, '2026-11-11 16:00:00+00'),
             (3, '2026-11-11 16:00:00+00'), (4, '2026-11-11 16:00:00+00'),
             (5, '2026-11-11 16:00:00+00'), (6, '2026-11-11 16:00:00+00'),
             (0, '2026-11-11 16:00:00+00')) c(channel, at)
ORDER BY c.at, c.channel;

-- 2. Across a month and a year's end, and a leap day: 2026-12-20 + 15 -> 2027-01-04;
-- 2028-02-20 + 15 -> 2028-03-06 (February 29 counted); 90 days (the most) from 2026-11-11
-- -> 2027-02-09.
SELECT c.days, c.at, loyalty_pending_release_on(
         program_with(ARRAY[0, c.days, 0, 0, 0, 0], 'Asia/Shanghai'), 2::smallint, c.at)
         AS release_on
FROM (VALUES (15, '2026-12-20 12:00:00+08'::timestamptz), (15, '2028-02-20 12:00:00+08'),
             (90, '2026-11-11 12:00:00+08')) c(days, at);

-- 3. Another time zone: in America/New_York (UTC-5 in November) 2026-11-12 03:00 UTC is
-- still the 11th -> 2026-11-26 for 15 days.
SELECT loyalty_pending_release_on(program_with('{0,15,0,0,0,0}', 'America/New_York'),
                                  2::smallint, '2026-11-12 03:00:00+00') AS release_on;

-- 4. The table refuses days outside 0-90, a missing channel and NULLs.
UPDATE program SET pending_days = '{0,91,0,0,0,0}';
UPDATE program SET pending_days = '{0,-1,0,0,0,0}';
UPDATE program SET pending_days = '{0,15,0,0,0}';
UPDATE program SET pending_days = '{0,NULL,0,0,0,0}';
UPDATE program SET pending_days = '{0,90,15,0,0,0}' RETURNING pending_days;
