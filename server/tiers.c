/*
 * tiers.c - see tiers.h.
 */
#include "tiers.h"

void tier_next(int tier, int64_t spend_cents, const tier_thresholds *thresholds, int *next,
               int64_t *to_go)
{
  int64_t threshold;
  switch (tier) {
  case TIER_LEVEL_NONE:
    *next = TIER_LEVEL_ORDINARY;
    *to_go = 0;
    return;
  case TIER_LEVEL_ORDINARY:
    threshold = thresholds->senior_cents;
    break;
  case TIER_LEVEL_SENIOR:
    threshold = thresholds->vip_cents;
    break;
  case TIER_LEVEL_VIP:
    threshold = thresholds->supreme_cents;
    break;
  default:
    *next = TIER_LEVEL_NONE;
    *to_go = 0;
    return;
  }
  *next = tier + 1;
  *to_go = spend_cents >= threshold ? 0 : threshold - spend_cents;
}
