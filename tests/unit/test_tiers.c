/*
 * test_tiers.c - next tier and spend still needed, at the thresholds' edges.
 */
#include "tiers.h"
#include "unit.h"

static const tier_thresholds defaults = {50000, 300000, 800000};

static void expect(int tier, int64_t spend, int want_next, int64_t want_to_go)
{
  int next = -1;
  int64_t to_go = -1;
  tier_next(tier, spend, &defaults, &next, &to_go);
  CHECK_EQ_INT(next, want_next);
  CHECK_EQ_INT(to_go, want_to_go);
}

int main(void)
{
  expect(TIER_LEVEL_NONE, 0, TIER_LEVEL_ORDINARY, 0);
  expect(TIER_LEVEL_ORDINARY, 0, TIER_LEVEL_SENIOR, 50000);
  expect(TIER_LEVEL_ORDINARY, 19999, TIER_LEVEL_SENIOR, 30001);
  expect(TIER_LEVEL_ORDINARY, 49999, TIER_LEVEL_SENIOR, 1);
  expect(TIER_LEVEL_SENIOR, 50000, TIER_LEVEL_VIP, 250000);
  expect(TIER_LEVEL_VIP, 799999, TIER_LEVEL_SUPREME, 1);
  expect(TIER_LEVEL_SUPREME, 900000, TIER_LEVEL_NONE, 0);
  /* A tier kept above what the spend gives (rolling review later) needs nothing more. */
  expect(TIER_LEVEL_VIP, 900000, TIER_LEVEL_SUPREME, 0);
  UNIT_DONE();
}
