-- report_members.sql - the member side of HQ's reports (docs/analytics.md): lifecycle
-- stages, migration between two dates, RFM, period KPIs, store KPIs. Every one reads the
-- ledger through reports.sql (time rule, people, purchases) and is written set-wise: one
-- pass over the purchases, aggregates and window functions, no per-member loop.
--
-- "The last N months" as of D: loyalty_report_months_from(D, N) .. D. The stages use the
-- same rule for every edge, so they partition the people:
--   bought in the last W        new (first purchase in the last W) or old; one or repeat
--                               (visits, distinct days, in the last W)
--   last purchase in the last 2W, not in the last W    silent
--   last purchase in the last 4W, not in the last 2W   sleeping
--   before the last 4W                                 lost
--   enrolled by D, no purchase                         never_bought

-- The stages, in the order reports list them, with their Chinese names and a rank that
-- says which way a migration goes (up: 正向, down: 反向). not_member: not yet enrolled.
CREATE OR REPLACE FUNCTION loyalty_report_stage_names()
RETURNS TABLE (stage text, ord int, label text, rank int)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('new_one', 1, '1次购买新客', 4), ('new_repeat', 2, '重复购买新客', 5),
         ('old_repeat', 3, '重复购买老客', 5), ('old_one', 4, '1次购买老客', 4),
         ('silent', 5, '沉默', 3), ('sleeping', 6, '睡眠', 2), ('lost', 7, '流失', 1),
         ('never_bought', 8, '注册未购买', 0), ('not_member', 9, '尚未注册', 0)
$$;

-- Each person's stage as of p_as_of with a window of p_window months (3, 6 or 12).
CREATE OR REPLACE FUNCTION loyalty_report_stages(p_as_of date, p_known_at timestamptz,
                                                 p_window int)
RETURNS TABLE (member_id bigint, stage text)
LANGUAGE sql STABLE AS $$
  WITH w AS (
    SELECT loyalty_report_months_from(p_as_of, p_window) AS w1,
           loyalty_report_months_from(p_as_of, 2 * p_window) AS w2,
           loyalty_report_months_from(p_as_of, 4 * p_window) AS w4
  ), days AS (  -- a visit: a person's distinct day with a purchase
    SELECT DISTINCT p.member_id, p.day FROM loyalty_purchases(p_as_of, p_known_at) p
  ), buyers AS (
    SELECT d.member_id, min(d.day) AS first_day, max(d.day) AS last_day,
           count(*) FILTER (WHERE d.day >= w.w1) AS visits
    FROM days d, w GROUP BY d.member_id
  )
  SELECT b.member_id,
         CASE WHEN b.last_day >= w.w1
                THEN CASE WHEN b.first_day >= w.w1 THEN 'new_' ELSE 'old_' END
                     || CASE WHEN b.visits = 1 THEN 'one' ELSE 'repeat' END
              WHEN b.last_day >= w.w2 THEN 'silent'
              WHEN b.last_day >= w.w4 THEN 'sleeping'
              ELSE 'lost' END
  FROM buyers b, w
  UNION ALL
  SELECT pe.member_id, 'never_bought'
  FROM loyalty_report_people(p_known_at) pe
  WHERE pe.enrolled_on <= p_as_of
    AND NOT EXISTS (SELECT 1 FROM buyers b WHERE b.member_id = pe.member_id)
$$;

-- The lifecycle report: people per stage (every stage but not_member, zeros included).
CREATE OR REPLACE FUNCTION loyalty_report_lifecycle(p_as_of date, p_known_at timestamptz,
                                                    p_window int)
RETURNS TABLE (stage text, label text, members bigint)
LANGUAGE sql STABLE AS $$
  SELECT n.stage, n.label, count(s.member_id)
  FROM loyalty_report_stage_names() n
  LEFT JOIN loyalty_report_stages(p_as_of, p_known_at, p_window) s ON s.stage = n.stage
  WHERE n.stage <> 'not_member'
  GROUP BY n.stage, n.label, n.ord ORDER BY n.ord
$$;

-- Migration: people by their stage as of p_from and as of p_to (both as known at
-- p_known_at), the non-empty cells of the stage x stage matrix, with the direction
-- (forward: the stage's rank went up, backward: down, same).
CREATE OR REPLACE FUNCTION loyalty_report_migration(p_from date, p_to date,
                                                    p_known_at timestamptz, p_window int)
RETURNS TABLE (from_stage text, to_stage text, members bigint, direction text)
LANGUAGE sql STABLE AS $$
  WITH cells AS (
    SELECT coalesce(a.stage, 'not_member') AS from_stage,
           coalesce(b.stage, 'not_member') AS to_stage, count(*) AS members
    FROM loyalty_report_stages(p_from, p_known_at, p_window) a
    FULL JOIN loyalty_report_stages(p_to, p_known_at, p_window) b USING (member_id)
    GROUP BY 1, 2
  )
  SELECT c.from_stage, c.to_stage, c.members,
         CASE WHEN nt.rank > nf.rank THEN 'forward' WHEN nt.rank < nf.rank THEN 'backward'
              ELSE 'same' END
  FROM cells c
  JOIN loyalty_report_stage_names() nf ON nf.stage = c.from_stage
  JOIN loyalty_report_stage_names() nt ON nt.stage = c.to_stage
  ORDER BY nf.ord, nt.ord
$$;

-- The eight RFM classes of Chinese retail by high/low R, F, M, in report order.
CREATE OR REPLACE FUNCTION loyalty_report_rfm_classes()
RETURNS TABLE (class text, ord int, label text, r_high boolean, f_high boolean,
               m_high boolean)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('important_value', 1, '重要价值', true, true, true),
         ('important_develop', 2, '重要发展', true, false, true),
         ('important_keep', 3, '重要保持', false, true, true),
         ('important_retain', 4, '重要挽留', false, false, true),
         ('general_value', 5, '一般价值', true, true, false),
         ('general_develop', 6, '一般发展', true, false, false),
         ('general_keep', 7, '一般保持', false, true, false),
         ('general_retain', 8, '一般挽留', false, false, false)
$$;

-- RFM of every person with a purchase in the last 12 months as of p_as_of:
--   recency_days  p_as_of - the day of the last purchase
--   frequency     visits (distinct days) in the last 12 months
--   monetary      net spend of the purchases of the last 12 months
-- Scores 1-5. R and M by default: ceil(5k/n), n the people, k those whose value is no
-- better (ties share the higher score); F by default in the buckets 1, 2, 3, 4-5, 6+.
-- Explicit cut-offs (4 ascending values, NULL: the default): R: 5 minus how many cut-offs
-- the days are above; F and M: 1 plus how many cut-offs the value reaches.
-- high: strictly better than the median (the mean of the two middle values when n is even;
-- compared exactly, doubled), or than the given cut-off (p_*_high; NULL: the median):
-- R high when recency_days < it, F and M when the value > it.
CREATE OR REPLACE FUNCTION loyalty_report_rfm_members(
    p_as_of date, p_known_at timestamptz,
    p_r_cuts int[], p_f_cuts int[], p_m_cuts bigint[],
    p_r_high int, p_f_high int, p_m_high bigint)
RETURNS TABLE (member_id bigint, recency_days int, frequency int, monetary_cents bigint,
               r_score int, f_score int, m_score int, class text)
LANGUAGE sql STABLE AS $$
  WITH days AS (
    SELECT p.member_id, p.day, sum(p.net_cents) AS net
    FROM loyalty_purchases(p_as_of, p_known_at, loyalty_report_months_from(p_as_of, 12)) p
    GROUP BY p.member_id, p.day
  ), v AS (
    SELECT d.member_id, p_as_of - max(d.day) AS r, count(*)::int AS f, sum(d.net)::bigint AS m
    FROM days d GROUP BY d.member_id
  ), ranked AS (
    SELECT v.*, count(*) OVER () AS n,
           count(*) OVER (ORDER BY v.r DESC) AS kr,  -- peers included: ties share
           count(*) OVER (ORDER BY v.m) AS km
    FROM v
  ), med AS (  -- twice the median: the lower and the upper middle value added
    SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY r)
             + percentile_disc(0.5) WITHIN GROUP (ORDER BY r DESC) AS r2,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY f)
             + percentile_disc(0.5) WITHIN GROUP (ORDER BY f DESC) AS f2,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY m)
             + percentile_disc(0.5) WITHIN GROUP (ORDER BY m DESC) AS m2
    FROM v
  ), scored AS (
    SELECT k.member_id, k.r, k.f, k.m,
           CASE WHEN p_r_cuts IS NULL THEN ((5 * k.kr + k.n - 1) / k.n)::int
                ELSE 5 - ((k.r > p_r_cuts[1])::int + (k.r > p_r_cuts[2])::int
                          + (k.r > p_r_cuts[3])::int + (k.r > p_r_cuts[4])::int) END AS rs,
           1 + (k.f >= fc[1])::int + (k.f >= fc[2])::int + (k.f >= fc[3])::int
             + (k.f >= fc[4])::int AS fs,
           CASE WHEN p_m_cuts IS NULL THEN ((5 * k.km + k.n - 1) / k.n)::int
                ELSE 1 + (k.m >= p_m_cuts[1])::int + (k.m >= p_m_cuts[2])::int
                       + (k.m >= p_m_cuts[3])::int + (k.m >= p_m_cuts[4])::int END AS ms,
           CASE WHEN p_r_high IS NULL THEN 2 * k.r < med.r2 ELSE k.r < p_r_high END AS rh,
           CASE WHEN p_f_high IS NULL THEN 2 * k.f > med.f2 ELSE k.f > p_f_high END AS fh,
           CASE WHEN p_m_high IS NULL THEN 2 * k.m > med.m2 ELSE k.m > p_m_high END AS mh
    FROM ranked k, med, (SELECT coalesce(p_f_cuts, '{2,3,4,6}'::int[]) AS fc) c
  )
  SELECT s.member_id, s.r, s.f, s.m, s.rs, s.fs, s.ms, c.class
  FROM scored s JOIN loyalty_report_rfm_classes() c
    ON c.r_high = s.rh AND c.f_high = s.fh AND c.m_high = s.mh
$$;

-- Period KPIs for p_from .. p_to (local dates), purchases valued as of p_as_of (>= p_to), at
-- the stores p_stores (NULL: the whole brand). Counts; the rates are their quotients
-- (docs/analytics.md). tiers[t + 1]: buyers whose tier as known at p_known_at (the last
-- change recorded by then: tier history is kept by when it was recorded, not by business
-- time, so a tier "at the period's end" would be wrong for late and imported sales) is t.
CREATE OR REPLACE FUNCTION loyalty_report_kpis(p_from date, p_to date, p_as_of date,
                                               p_known_at timestamptz, p_stores int[],
                                               p_window int,
                                               OUT buyers bigint, OUT new_buyers bigint,
                                               OUT repeat_buyers bigint,
                                               OUT net_sales_cents bigint,
                                               OUT new_buyer_sales_cents bigint,
                                               OUT first_half_buyers bigint,
                                               OUT retained_buyers bigint,
                                               OUT sleeping_before bigint, OUT woken bigint,
                                               OUT lost_before bigint, OUT reactivated bigint,
                                               OUT enrolments bigint, OUT tiers bigint[])
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, p_from + (p_to - p_from + 1) / 2 AS mid  -- the second half starts here
    FROM loyalty_report_bounds(p_as_of, p_known_at) r
  ), hist AS (
    SELECT * FROM loyalty_purchases(p_as_of, p_known_at)
  ), firsts AS (
    SELECT h.member_id, min(h.day) AS first_day FROM hist h GROUP BY h.member_id
  ), inside AS (
    SELECT h.* FROM hist h
    WHERE h.day BETWEEN p_from AND p_to AND (p_stores IS NULL OR h.store_id = ANY (p_stores))
  ), per AS (
    SELECT i.member_id, count(DISTINCT i.day) AS visits, sum(i.net_cents) AS net,
           bool_or(i.day < b.mid) AS in_first, bool_or(i.day >= b.mid) AS in_second
    FROM inside i, b GROUP BY i.member_id
  ), everyone AS (  -- one row per person: a grouped union, never a join of row sets whose
                    -- sizes the planner cannot know (it would nest loops over them)
    SELECT u.member_id, max(u.visits) AS visits, max(u.net) AS net,
           bool_or(u.in_first) AS in_first, bool_or(u.in_second) AS in_second,
           min(u.first_day) AS first_day, max(u.stage) AS stage
    FROM (SELECT p.member_id, p.visits, p.net, p.in_first, p.in_second, NULL::date AS first_day,
                 NULL::text AS stage
          FROM per p
          UNION ALL
          SELECT f.member_id, NULL, NULL, NULL, NULL, f.first_day, NULL FROM firsts f
          UNION ALL
          SELECT s.member_id, NULL, NULL, NULL, NULL, NULL, s.stage
          FROM loyalty_report_stages(p_from - 1, p_known_at, p_window) s
          WHERE s.stage IN ('sleeping', 'lost')) u
    GROUP BY u.member_id
  ), tier_at AS (
    SELECT p.member_id,
           coalesce((SELECT t.new_tier FROM tier_changes t, b
                     WHERE t.member_id = p.member_id AND t.changed_at <= b.known_at
                     ORDER BY t.change_id DESC LIMIT 1), 0) AS tier
    FROM per p
  )
  SELECT
    count(*) FILTER (WHERE e.visits > 0),
    count(*) FILTER (WHERE e.visits > 0 AND e.first_day >= p_from),
    count(*) FILTER (WHERE e.visits >= 2),
    coalesce(sum(e.net) FILTER (WHERE e.visits > 0), 0)::bigint,
    coalesce(sum(e.net) FILTER (WHERE e.visits > 0 AND e.first_day >= p_from), 0)::bigint,
    count(*) FILTER (WHERE e.in_first),
    count(*) FILTER (WHERE e.in_first AND e.in_second),
    count(*) FILTER (WHERE e.stage = 'sleeping'),
    count(*) FILTER (WHERE e.stage = 'sleeping' AND e.visits > 0),
    count(*) FILTER (WHERE e.stage = 'lost'),
    count(*) FILTER (WHERE e.stage = 'lost' AND e.visits > 0),
    (SELECT count(*) FROM loyalty_report_people(p_known_at) pe
     WHERE pe.enrolled_on BETWEEN p_from AND least(p_to, p_as_of)
       AND (p_stores IS NULL OR pe.enrolled_store_id = ANY (p_stores))),
    (SELECT array_agg(coalesce(c.n, 0) ORDER BY t.tier)
     FROM generate_series(0, 4) t(tier)
     LEFT JOIN (SELECT tier, count(*) AS n FROM tier_at GROUP BY tier) c ON c.tier = t.tier)
  FROM everyone e
$$;

-- Store KPIs for p_from .. p_to at each store of p_stores (NULL: every store):
--   enrolled         people who enrolled there in the period
--   prior_buyers     people who bought there in the 12 months before the period
--   returning        of those, the ones who bought there again in the period (老客回头率 =
--                    returning / prior_buyers)
--   buyers, repeat_buyers   people who bought there in the period; with 2+ visits there
--   net_sales_cents  the period's purchases there, net of refunds by p_as_of
--   points_earned    points (pending included) of the earns there in the period, before
--                    refunds
--   points_redeemed  points redeemed there in the period, less cancellations in the period
--                    of redemptions made there (a cancellation counts on its own date)
CREATE OR REPLACE FUNCTION loyalty_report_store_kpis(p_from date, p_to date, p_as_of date,
                                                     p_known_at timestamptz, p_stores int[])
RETURNS TABLE (store_id int, store_code text, name text, enrolled bigint,
               prior_buyers bigint, returning_buyers bigint, buyers bigint,
               repeat_buyers bigint, net_sales_cents bigint, points_earned bigint,
               points_redeemed bigint)
LANGUAGE sql STABLE AS $$
  WITH b AS (
    SELECT r.*, p_from::timestamp AT TIME ZONE r.time_zone AS period_start,
           least(r.occurred_before, (p_to + 1)::timestamp AT TIME ZONE r.time_zone)
             AS period_end,
           loyalty_report_months_from(p_from - 1, 12) AS prior_from
    FROM loyalty_report_bounds(p_as_of, p_known_at) r
  ), st AS (
    SELECT s.store_id, s.store_code, s.name FROM stores s
    WHERE p_stores IS NULL OR s.store_id = ANY (p_stores)
  ), visits AS (  -- a person's distinct days at a store, from the prior 12 months on
    SELECT DISTINCT p.store_id, p.member_id, p.day
    FROM loyalty_purchases(p_as_of, p_known_at, (SELECT prior_from FROM b)) p
    WHERE p.day <= p_to
  ), per AS (
    SELECT v.store_id, v.member_id,
           count(*) FILTER (WHERE v.day >= p_from) AS in_period,
           count(*) FILTER (WHERE v.day < p_from) AS before
    FROM visits v GROUP BY v.store_id, v.member_id
  ), agg AS (
    SELECT per.store_id, count(*) FILTER (WHERE before > 0) AS prior_buyers,
           count(*) FILTER (WHERE before > 0 AND in_period > 0) AS returning_buyers,
           count(*) FILTER (WHERE in_period > 0) AS buyers,
           count(*) FILTER (WHERE in_period >= 2) AS repeat_buyers
    FROM per GROUP BY per.store_id
  ), sales AS (
    SELECT p.store_id, sum(p.net_cents)::bigint AS net
    FROM loyalty_purchases(p_as_of, p_known_at, p_from) p
    WHERE p.day <= p_to GROUP BY p.store_id
  ), moves AS (
    SELECT CASE WHEN l.kind = 'cancel_redemption' THEN r.store_id ELSE l.store_id END
             AS store_id,
           sum(l.points + l.pending_points) FILTER (WHERE l.kind = 'earn') AS earned,
           coalesce(sum(-l.points) FILTER (WHERE l.kind = 'redeem'), 0)
             - coalesce(sum(l.points) FILTER (WHERE l.kind = 'cancel_redemption'), 0)
             AS redeemed
    FROM b, ledger l LEFT JOIN ledger r ON l.kind = 'cancel_redemption'
                                        AND r.txn_id = l.ref_txn_id
    WHERE l.kind IN ('earn', 'redeem', 'cancel_redemption')
      AND l.occurred_at >= b.period_start AND l.occurred_at < b.period_end
      AND l.created_at <= b.known_at
    GROUP BY 1
  ), enrolled AS (
    SELECT pe.enrolled_store_id AS store_id, count(*) AS n
    FROM loyalty_report_people(p_known_at) pe
    WHERE pe.enrolled_on BETWEEN p_from AND least(p_to, p_as_of)
    GROUP BY 1
  )
  SELECT st.store_id, st.store_code, st.name, coalesce(e.n, 0), coalesce(a.prior_buyers, 0),
         coalesce(a.returning_buyers, 0), coalesce(a.buyers, 0), coalesce(a.repeat_buyers, 0),
         coalesce(s.net, 0), coalesce(m.earned, 0)::bigint, coalesce(m.redeemed, 0)::bigint
  FROM st
  LEFT JOIN agg a ON a.store_id = st.store_id
  LEFT JOIN sales s ON s.store_id = st.store_id
  LEFT JOIN moves m ON m.store_id = st.store_id
  LEFT JOIN enrolled e ON e.store_id = st.store_id
  ORDER BY st.store_code
$$;

-- The stores a report is filtered to: those matching every filter given (store code,
-- channel, region; ''/0: any); NULL when none is given (the whole brand). LY404 for an
-- unknown store code.
CREATE OR REPLACE FUNCTION loyalty_report_store_filter(p_store_code text, p_channel int,
                                                       p_region text)
RETURNS int[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_ids int[];
BEGIN
  IF coalesce(p_store_code, '') = '' AND coalesce(p_channel, 0) = 0
     AND coalesce(p_region, '') = '' THEN
    RETURN NULL;
  END IF;
  IF p_store_code <> '' AND NOT EXISTS (SELECT 1 FROM stores WHERE store_code = p_store_code)
  THEN
    RAISE 'unknown store %', p_store_code USING ERRCODE = 'LY404';
  END IF;
  SELECT coalesce(array_agg(store_id), '{}') INTO v_ids FROM stores
  WHERE (p_store_code = '' OR store_code = p_store_code)
    AND (p_channel = 0 OR channel = p_channel)
    AND (p_region = '' OR region = p_region);
  RETURN v_ids;
END $$;
