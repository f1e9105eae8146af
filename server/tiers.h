/*
 * tiers.h - tier arithmetic that does not need the database. Pure functions.
 *
 * Tiers are the values of loyalty.v1.Tier: 0 none (no purchase yet), 1 ordinary,
 * 2 senior, 3 VIP, 4 supreme. The authoritative tier changes happen in the stored functions,
 * in the same transaction as the purchase or refund; this is for reporting.
 *
 * INTERFACE ROUTINES
 *   tier_next   the tier above a member's and the net spend still needed to reach it
 */
#ifndef LOYALTY_TIERS_H
#define LOYALTY_TIERS_H

#include <stdint.h>

enum tier_level {
  TIER_LEVEL_NONE = 0,
  TIER_LEVEL_ORDINARY = 1,
  TIER_LEVEL_SENIOR = 2,
  TIER_LEVEL_VIP = 3,
  TIER_LEVEL_SUPREME = 4,
};

typedef struct tier_thresholds {
  int64_t senior_cents;
  int64_t vip_cents;
  int64_t supreme_cents;
} tier_thresholds;

/* For a member of tier `tier` with net spend spend_cents: *next is the tier above (0 at the
 * top) and *to_go the spend still needed for it (0 at the top; 0 for a member with no
 * purchase yet, who becomes ordinary with any purchase). */
void tier_next(int tier, int64_t spend_cents, const tier_thresholds *thresholds, int *next,
               int64_t *to_go);

#endif
