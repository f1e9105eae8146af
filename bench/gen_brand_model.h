/*
 * gen_brand_model.h - the model of bench/gen-brand: a brand's stores, calendar, members and
 * their orders, generated deterministically from a seed.
 *
 * Everything about member i is a pure function of (seed, i): gb_member_generate() can be
 * called again for the same member at any time and gives the same orders, which is how the
 * orders pass streams three years of orders in time order without holding them (see
 * gen_brand.c). Three independent random streams per member keep the parts apart: the
 * orders (stream A), the person (name, birthday; stream B), the points history
 * (redemptions; stream C).
 *
 * Time: all times are wall-clock seconds in China (UTC+08:00) counted from 1970-01-01
 * 00:00:00 local ("local seconds"); days are local day numbers from 1970-01-01.
 *
 * INTERFACE ROUTINES
 *   gb_brand_init / gb_brand_free   stores, seasonality curves, activity distribution
 *   gb_member_generate              one member's enrolment and orders, sorted by time
 *   gb_member_person                name and birthday
 *   gb_member_ref                   a member reference (phone or kind:value) as text
 *   gb_member_points                the old system's points lots at the end date
 *   gb_order_id                     an order's receipt number, unique per store
 *   gb_days_from_civil / gb_civil_from_days   calendar arithmetic
 */
#ifndef GEN_BRAND_MODEL_H
#define GEN_BRAND_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define GB_N_POS 300          /* physical stores */
#define GB_N_ONLINE 5         /* online shops, one per online channel */
#define GB_N_STORES (GB_N_POS + GB_N_ONLINE)
#define GB_MAX_ORDERS 200     /* purchases of one member over the whole period */
#define GB_MAX_YEARS 10
#define GB_MAX_MEMBERS 10000000u

typedef enum gb_channel {
  GB_POS,
  GB_TMALL,
  GB_JD,
  GB_WECHAT_MINI,
  GB_WEB,
  GB_OTHER,  /* a Douyin shop */
  GB_N_CHANNELS
} gb_channel;

/* How an order or a balance row names its member: the phone or one of the identities. */
typedef enum gb_ref {
  GB_REF_PHONE,
  GB_REF_TMALL_NICK,
  GB_REF_JD_PIN,
  GB_REF_WECHAT_OPENID,
  GB_REF_POS_CARD,
  GB_N_REFS
} gb_ref;

typedef struct gb_store {
  char code[16];       /* SH001, ... TM001 */
  char name[96];
  const char *region;  /* province, or "online" */
  gb_channel channel;
} gb_store;

typedef struct gb_order {
  int64_t at;         /* local seconds of the purchase */
  int64_t refund_at;  /* local seconds of the refund; meaningful when refunded > 0 */
  int32_t amount;     /* cents, > 0 */
  int32_t refunded;   /* cents refunded in total, 0 = none, <= amount */
  uint16_t store;     /* index in gb_brand.stores */
  uint8_t ref;        /* gb_ref the order names the member by */
} gb_order;

typedef struct gb_member {
  uint32_t index;
  int64_t enrolled_at;   /* local seconds */
  uint16_t home_store;   /* where the member enrolled: a POS store or an online shop */
  bool has_phone;        /* false for a few online members known only by an identity */
  uint8_t identities;    /* bit (1 << gb_ref) for each identity the member has */
  int n_orders;
  gb_order orders[GB_MAX_ORDERS];  /* sorted by .at; order j's receipt is gb_order_id(j) */
} gb_member;

/* One expiry date's points of a member at the end date. */
typedef struct gb_lot {
  int32_t expires_on;  /* day number: 31 December of the year after the points were earned */
  int64_t points;      /* remaining (expired lots: what expired) */
} gb_lot;

typedef struct gb_brand {
  uint64_t seed;
  int32_t first_day, last_day;  /* the period, inclusive day numbers */
  int n_days;
  double *day_cum[3];           /* [0] stores, [1] online, [2] both: n_days + 1 prefix sums */
  double store_cum[GB_N_POS + 1];
  gb_store stores[GB_N_STORES];
  double activity_cum[GB_MAX_ORDERS + 1];
} gb_brand;

/* 0, or -1 when out of memory. first_day <= last_day. */
int gb_brand_init(gb_brand *b, uint64_t seed, int32_t first_day, int32_t last_day)
    __attribute__((warn_unused_result));
void gb_brand_free(gb_brand *b);

/* Fills *m (large: keep it off small stacks) with member index's enrolment and orders. */
void gb_member_generate(const gb_brand *b, uint32_t index, gb_member *m);

/* Writes the member's name (UTF-8, < 16 bytes) to name; *birthday is a day number or -1. */
void gb_member_person(const gb_brand *b, uint32_t index, char name[16], int32_t *birthday);

/* Writes the reference `ref` of member index ("13912345678", "jd_pin:jd_4f...") to buf
 * (>= 64 bytes); with `with_kind` false an identity is written without its "kind:". */
void gb_member_ref(const gb_brand *b, uint32_t index, gb_ref ref, bool with_kind, char *buf);

/* The member's key reference: the phone, else the first identity. */
gb_ref gb_member_key_ref(const gb_member *m);

/* The old system's points lots of member m at the end of the period: 1 point per whole yuan
 * of each purchase into the lot of its year, refunds take back their share, ~10 % of members
 * redeem (oldest lots first), lots expire at the end of the following year. Writes the lots
 * still valid at the last day (expires_on >= last_day, points > 0) to live[] and returns
 * their number; *expired is the most recent lot that expired with points left (points 0:
 * none). */
int gb_member_points(const gb_brand *b, const gb_member *m, gb_lot live[GB_MAX_YEARS + 2],
                     gb_lot *expired);

/* Writes order j of member index at store (channel prefix and 13 digits) to buf (>= 24 bytes). */
void gb_order_id(const gb_brand *b, uint32_t index, int j, const gb_store *store, char *buf);

int32_t gb_days_from_civil(int y, int m, int d);
void gb_civil_from_days(int32_t day, int *y, int *m, int *d);

extern const char *const gb_channel_names[GB_N_CHANNELS];
extern const char *const gb_ref_kinds[GB_N_REFS];

#endif
