/*
 * gen_brand_model.c - the brand model of bench/gen-brand (see gen_brand_model.h and the
 * comment at the top of gen_brand.c for what it models and why).
 *
 * Randomness: xoshiro256** seeded through splitmix64 from (seed, member index, stream);
 * never rand(). Distributions are sampled with doubles (exp() for log-normal spend), but
 * money leaves this file as integer cents and points as integers. Unique numbers (phones,
 * cards, nicks, pins, openids, receipts) come from bijections of the member index, so they
 * never collide, whatever the seed.
 */
#include "gen_brand_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gb_channel_names[GB_N_CHANNELS] = {"pos", "tmall", "jd", "wechat_mini", "web",
                                                     "other"};
const char *const gb_ref_kinds[GB_N_REFS] = {"phone", "tmall_nick", "jd_pin", "wechat_openid",
                                             "pos_card"};

/* ---- randomness ------------------------------------------------------------------------ */

enum { STREAM_ORDERS = 1, STREAM_PERSON = 2, STREAM_POINTS = 3 };

typedef struct rng {
  uint64_t s[4];
} rng;

static uint64_t mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x)
{
  return mix64(*x += 0x9E3779B97F4A7C15u);
}

static void rng_seed(rng *r, uint64_t seed, uint32_t index, uint64_t stream)
{
  uint64_t x = mix64(mix64(seed ^ (stream << 56)) + index);
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static uint32_t rng_below(rng *r, uint32_t n)
{
  return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static bool rng_chance(rng *r, double p)
{
  return rng_unit(r) < p;
}

/* Standard normal, approximately (Irwin-Hall: the sum of 12 uniforms, minus 6). */
static double rng_normal(rng *r)
{
  double s = 0;
  for (int i = 0; i < 12; i++)
    s += rng_unit(r);
  return s - 6.0;
}

/* The index k in [lo, hi] where a uniform u falls in the prefix sums cum[] (cum[k] is the
 * weight of the items before k). */
static int sample_cum(const double *cum, int lo, int hi, double unit)
{
  double u = cum[lo] + unit * (cum[hi + 1] - cum[lo]);
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (cum[mid + 1] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

static int sample_weights(rng *r, const double *w, int n)
{
  double total = 0;
  for (int i = 0; i < n; i++)
    total += w[i];
  double u = rng_unit(r) * total;
  for (int i = 0; i < n - 1; i++) {
    if (u < w[i])
      return i;
    u -= w[i];
  }
  return n - 1;
}

/* A keyed bijection of [0, 2^bits): odd multiplications and xor-shifts are each invertible. */
static uint64_t permute_bits(uint64_t x, uint64_t key, int bits)
{
  const uint64_t mask = (UINT64_C(1) << bits) - 1;
  x = (x ^ key) & mask;
  x = (x * 0x9E3779B97Fu) & mask;
  x ^= x >> (bits / 2 - 3);
  x = (x * (0xC2B2AE3D27u ^ (key >> 40 << 1))) & mask;
  x ^= x >> (bits / 2 + 1);
  return x;
}

static uint64_t permute40(uint64_t x, uint64_t key)
{
  return permute_bits(x, key, 40);
}

/* A keyed bijection of [0, 10^8) (index < 10^8): unique 8-digit numbers that do not look
 * sequential. Cycle-walks a bijection of [0, 2^27) until the value is below 10^8. */
static uint32_t bij8(const gb_brand *b, uint32_t index, uint64_t salt)
{
  uint64_t key = mix64(b->seed ^ salt), x = index;
  do
    x = permute_bits(x, key, 27);
  while (x >= 100000000u);
  return (uint32_t)x;
}

/* ---- calendar -------------------------------------------------------------------------- */

/* Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian. */
int32_t gb_days_from_civil(int y, int m, int d)
{
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void gb_civil_from_days(int32_t day, int *y, int *m, int *d)
{
  int z = day + 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

static int year_of_seconds(int64_t at)
{
  int y, m, d;
  gb_civil_from_days((int32_t)(at / 86400), &y, &m, &d);
  return y;
}

/* Chinese New Year (the first day of the lunar year), 2010-2035; other years: 5 February. */
static int32_t chinese_new_year(int y)
{
  static const unsigned char mmdd[][2] = {
      {2, 14}, {2, 3}, {1, 23}, {2, 10}, {1, 31}, {2, 19}, {2, 8},  {1, 28}, {2, 16},
      {2, 5},  {1, 25}, {2, 12}, {2, 1}, {1, 22}, {2, 10}, {1, 29}, {2, 17}, {2, 6},
      {1, 26}, {2, 13}, {2, 3}, {1, 23}, {2, 11}, {1, 31}, {2, 19}, {2, 8}};
  if (y < 2010 || y > 2035)
    return gb_days_from_civil(y, 2, 5);
  return gb_days_from_civil(y, mmdd[y - 2010][0], mmdd[y - 2010][1]);
}

/* The relative weight of a day's orders in stores (w[0]) and online (w[1]), and of all
 * business (w[2]). Members enrol by the curve of their home channel. */
static void day_weights(int32_t day, int32_t first_day, double w[3])
{
  int y, m, d;
  gb_civil_from_days(day, &y, &m, &d);
  int weekday = (int)(((int64_t)day + 4) % 7);  /* 0 = Sunday; 1970-01-01 was a Thursday */
  double store = 1.0, online = 1.0;
  if (weekday == 0 || weekday == 6) {
    store *= 1.7;
    online *= 1.1;
  } else if (weekday == 5) {
    store *= 1.15;
  }
  if (m == 3 || m == 9) {  /* new-season collections */
    store *= 1.45;
    online *= 1.3;
  }
  if (m == 11 && d <= 11) {  /* 双11: pre-sales from 1 November, the day itself huge */
    online *= d == 11 ? 22.0 : 2.6;
    store *= 1.25;
  }
  if (m == 6 && d <= 18) {  /* 618 */
    online *= d == 18 ? 7.0 : 1.9;
    store *= 1.15;
  }
  if (m == 12 && d == 12)  /* 双12 */
    online *= 3.0;
  if (m == 10 && d <= 7) {  /* National Day golden week */
    store *= 1.8;
    online *= 0.9;
  }
  int32_t from_cny = day - chinese_new_year(y);
  if (from_cny >= -2 && from_cny <= 6) {  /* the holiday: stores closed early, couriers stop */
    store *= 0.3;
    online *= 0.35;
  } else if (from_cny >= -21 && from_cny < -2) {  /* new clothes for the New Year */
    store *= 1.25;
  }
  double trend = 1.0 + 0.15 * (double)(day - first_day) / 365.0;  /* the brand grows */
  w[0] = store * trend;
  w[1] = online * trend;
  w[2] = (0.6 * store + 0.4 * online) * trend;
}

/* ---- stores ---------------------------------------------------------------------------- */

typedef struct city {
  const char *code, *name, *province;
  double weight;  /* share of the brand's stores */
} city;

static const city cities[] = {
    {"SH", "上海", "上海", 28},   {"BJ", "北京", "北京", 24},     {"GZ", "广州", "广东", 15},
    {"SZ", "深圳", "广东", 15},   {"HZ", "杭州", "浙江", 14},     {"CD", "成都", "四川", 13},
    {"NJ", "南京", "江苏", 11},   {"SU", "苏州", "江苏", 11},     {"WH", "武汉", "湖北", 11},
    {"CQ", "重庆", "重庆", 11},   {"XA", "西安", "陕西", 9},      {"TJ", "天津", "天津", 9},
    {"CS", "长沙", "湖南", 9},    {"ZZ", "郑州", "河南", 8},      {"NB", "宁波", "浙江", 7},
    {"QD", "青岛", "山东", 7},    {"JN", "济南", "山东", 6},      {"SY", "沈阳", "辽宁", 7},
    {"DL", "大连", "辽宁", 5},    {"HR", "哈尔滨", "黑龙江", 6},  {"CC", "长春", "吉林", 5},
    {"WX", "无锡", "江苏", 6},    {"XM", "厦门", "福建", 6},      {"FZ", "福州", "福建", 5},
    {"HF", "合肥", "安徽", 6},    {"NC", "南昌", "江西", 5},      {"KM", "昆明", "云南", 5},
    {"NN", "南宁", "广西", 4},    {"GY", "贵阳", "贵州", 4},      {"TY", "太原", "山西", 4},
    {"SJ", "石家庄", "河北", 4},  {"LZ", "兰州", "甘肃", 3},      {"HK", "海口", "海南", 3},
    {"UR", "乌鲁木齐", "新疆", 2}, {"HH", "呼和浩特", "内蒙古", 2}, {"YC", "银川", "宁夏", 2},
};
#define N_CITIES ((int)(sizeof cities / sizeof cities[0]))

static const struct {
  const char *code, *name;
  gb_channel channel;
} online_shops[GB_N_ONLINE] = {
    {"TM001", "岚衣天猫旗舰店", GB_TMALL},
    {"JD001", "岚衣京东旗舰店", GB_JD},
    {"MP001", "岚衣微信小程序商城", GB_WECHAT_MINI},
    {"WEB001", "岚衣官网商城 (www, m)", GB_WEB},  /* a comma: the importer's quoting */
    {"DY001", "岚衣抖音旗舰店", GB_OTHER},
};

/* 300 stores spread over the cities by weight (largest remainder), each city's first store
 * its flagship. The same for every seed. */
static void make_stores(gb_brand *b)
{
  double total = 0;
  for (int c = 0; c < N_CITIES; c++)
    total += cities[c].weight;
  int count[N_CITIES], given = 0;
  double rest[N_CITIES];
  for (int c = 0; c < N_CITIES; c++) {
    double exact = GB_N_POS * cities[c].weight / total;
    count[c] = (int)exact;
    rest[c] = exact - count[c];
    given += count[c];
  }
  while (given < GB_N_POS) {
    int best = 0;
    for (int c = 1; c < N_CITIES; c++)
      if (rest[c] > rest[best])
        best = c;
    count[best]++;
    rest[best] = -1;
    given++;
  }
  int s = 0;
  b->store_cum[0] = 0;
  for (int c = 0; c < N_CITIES; c++)
    for (int n = 1; n <= count[c]; n++, s++) {
      gb_store *st = &b->stores[s];
      snprintf(st->code, sizeof st->code, "%s%03d", cities[c].code, n % 1000);
      if (n == 1)
        snprintf(st->name, sizeof st->name, "岚衣%s旗舰店", cities[c].name);
      else
        snprintf(st->name, sizeof st->name, "岚衣%s%d号店", cities[c].name, n);
      st->region = cities[c].province;
      st->channel = GB_POS;
      /* Traffic: flagships 2.5, others 0.5-1.5 by a fixed hash of the code. */
      double traffic = n == 1 ? 2.5 : 0.5 + (double)(mix64((uint64_t)s * 7919 + 17) % 1000) / 1000;
      b->store_cum[s + 1] = b->store_cum[s] + traffic;
    }
  for (int o = 0; o < GB_N_ONLINE; o++, s++) {
    gb_store *st = &b->stores[s];
    snprintf(st->code, sizeof st->code, "%s", online_shops[o].code);
    snprintf(st->name, sizeof st->name, "%s", online_shops[o].name);
    st->region = "online";
    st->channel = online_shops[o].channel;
  }
}

static uint16_t online_shop(gb_channel channel)
{
  return (uint16_t)(GB_N_POS + (int)channel - (int)GB_TMALL);
}

/* ---- the brand ------------------------------------------------------------------------- */

/* Purchases per member over the period: Zipf, P(k) ~ k^-1.9 (about half buy once). */
#define ACTIVITY_EXPONENT 1.9

int gb_brand_init(gb_brand *b, uint64_t seed, int32_t first_day, int32_t last_day)
{
  memset(b, 0, sizeof *b);
  b->seed = seed;
  b->first_day = first_day;
  b->last_day = last_day;
  b->n_days = last_day - first_day + 1;
  for (int k = 0; k < 3; k++) {
    b->day_cum[k] = malloc((size_t)(b->n_days + 1) * sizeof(double));
    if (b->day_cum[k] == NULL) {
      gb_brand_free(b);
      return -1;
    }
    b->day_cum[k][0] = 0;
  }
  for (int i = 0; i < b->n_days; i++) {
    double w[3];
    day_weights(first_day + i, first_day, w);
    for (int k = 0; k < 3; k++)
      b->day_cum[k][i + 1] = b->day_cum[k][i] + w[k];
  }
  make_stores(b);
  b->activity_cum[0] = 0;
  for (int k = 1; k <= GB_MAX_ORDERS; k++)
    b->activity_cum[k] = b->activity_cum[k - 1] + pow((double)k, -ACTIVITY_EXPONENT);
  return 0;
}

void gb_brand_free(gb_brand *b)
{
  for (int k = 0; k < 3; k++) {
    free(b->day_cum[k]);
    b->day_cum[k] = NULL;
  }
}

/* ---- members and orders ---------------------------------------------------------------- */

/* Where members enrol, and where an order goes when not to the member's home channel. */
static const double home_channel_weights[GB_N_CHANNELS] = {58, 17, 8, 10, 3, 4};
static const double order_channel_weights[GB_N_CHANNELS] = {50, 22, 10, 10, 3, 5};
#define P_HOME_CHANNEL 0.65   /* an order on the member's home channel */
#define P_ENROLLED_BEFORE 0.4  /* joined before the period */
#define P_NO_PURCHASE 0.08    /* enrolled, never bought */
#define P_BUY_AT_ENROL 0.75   /* the first purchase is the enrolment visit */
#define P_PHONELESS 0.01      /* of Tmall/JD/WeChat members: known by the identity only */
#define P_REFUND_ONLINE 0.25
#define P_REFUND_STORE 0.08

/* Hours of the day: stores 10:00-21:59, online all day with an evening peak. */
static const double store_hours[12] = {3, 5, 7, 8, 9, 10, 10, 10, 11, 10, 7, 4};
static const double online_hours[24] = {4, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5,  5,
                                        6, 6, 5, 5, 5, 6, 7, 8, 10, 11, 10, 7};

static int64_t sample_time(rng *r, int32_t day, bool online)
{
  int hour;
  int m = 0, d = 0, y;
  gb_civil_from_days(day, &y, &m, &d);
  if (!online)
    hour = 10 + sample_weights(r, store_hours, 12);
  else if (m == 11 && d == 11 && rng_chance(r, 0.3))
    hour = (int)rng_below(r, 2);  /* 双11 starts at midnight */
  else
    hour = sample_weights(r, online_hours, 24);
  return (int64_t)day * 86400 + hour * 3600 + rng_below(r, 3600);
}

/* Spend per order: log-normal around 420 yuan in stores and 320 online, scaled by the
 * member's own level; priced like apparel (mostly ...9 yuan, some whole, some discounted). */
static int32_t sample_amount(rng *r, double member_level, bool online)
{
  double yuan = (online ? 320.0 : 420.0) * member_level * exp(0.55 * rng_normal(r));
  if (yuan < 19.0)
    yuan = 19.0;
  if (yuan > 30000.0)
    yuan = 30000.0;
  int64_t cents = (int64_t)(yuan * 100.0 + 0.5);
  double u = rng_unit(r);
  if (u < 0.55) {
    int64_t whole = (cents / 100 + 5) / 10 * 10 - 1;  /* 399, 459, ... */
    cents = (whole < 19 ? 19 : whole) * 100;
  } else if (u < 0.8) {
    cents = cents / 100 * 100;
  }
  return (int32_t)cents;
}

static void add_refund(const gb_brand *b, rng *r, gb_order *o, bool online)
{
  if (!rng_chance(r, online ? P_REFUND_ONLINE : P_REFUND_STORE))
    return;
  if (rng_chance(r, online ? 0.35 : 0.3) && o->amount > 1) {  /* one item of several */
    int32_t part = (int32_t)(o->amount * (0.15 + 0.7 * rng_unit(r)));
    o->refunded = part < 1 ? 1 : part >= o->amount ? o->amount - 1 : part;
  } else {
    o->refunded = o->amount;
  }
  /* Online: returned parcel received 2-15 days later; stores: 0-7 days. */
  int64_t delay = online ? (2 + rng_below(r, 14)) * 86400 : rng_below(r, 8) * 86400;
  delay += rng_below(r, 12 * 3600);
  int64_t end = (int64_t)b->last_day * 86400 + 86399;
  if (o->at + delay > end)  /* a return due after the last day: within what is left */
    delay = (int64_t)((double)(end - o->at) * rng_unit(r));
  o->refund_at = o->at + delay;
}

static gb_ref order_ref(rng *r, gb_channel channel, bool has_phone)
{
  switch (channel) {
  case GB_POS:
    return has_phone && rng_chance(r, 0.85) ? GB_REF_PHONE : GB_REF_POS_CARD;
  case GB_TMALL:
    return GB_REF_TMALL_NICK;
  case GB_JD:
    return GB_REF_JD_PIN;
  case GB_WECHAT_MINI:
    return has_phone && rng_chance(r, 0.3) ? GB_REF_PHONE : GB_REF_WECHAT_OPENID;
  default:
    return GB_REF_PHONE;
  }
}

static gb_ref channel_identity(gb_channel channel)
{
  switch (channel) {
  case GB_POS: return GB_REF_POS_CARD;
  case GB_TMALL: return GB_REF_TMALL_NICK;
  case GB_JD: return GB_REF_JD_PIN;
  case GB_WECHAT_MINI: return GB_REF_WECHAT_OPENID;
  default: return GB_REF_PHONE;
  }
}

void gb_member_generate(const gb_brand *b, uint32_t index, gb_member *m)
{
  rng r;
  rng_seed(&r, b->seed, index, STREAM_ORDERS);
  const int last = b->n_days - 1;
  const int64_t end = (int64_t)b->last_day * 86400 + 86399;

  m->index = index;
  m->n_orders = 0;
  m->identities = 0;
  gb_channel home = (gb_channel)sample_weights(&r, home_channel_weights, GB_N_CHANNELS);
  uint16_t near_store = (uint16_t)sample_cum(b->store_cum, 0, GB_N_POS - 1, rng_unit(&r));
  m->home_store = home == GB_POS ? near_store : online_shop(home);
  m->has_phone = !((home == GB_TMALL || home == GB_JD || home == GB_WECHAT_MINI) &&
                   rng_chance(&r, P_PHONELESS));
  if (!m->has_phone || home == GB_POS)
    m->identities |= (uint8_t)(1u << channel_identity(home));
  /* Members of the old system who joined in the two years before the period buy from its
   * first day on; the others join during it. */
  bool before = rng_chance(&r, P_ENROLLED_BEFORE);
  int enrol_day = before ? 0 : sample_cum(b->day_cum[home != GB_POS], 0, last, rng_unit(&r));
  int32_t joined = before ? b->first_day - 1 - (int32_t)rng_below(&r, 730) : b->first_day + enrol_day;
  m->enrolled_at = sample_time(&r, joined, home != GB_POS);
  double level = exp(0.3 * rng_normal(&r));

  if (rng_chance(&r, P_NO_PURCHASE))
    return;
  /* Zipf activity, thinned by the share of the period's business after the enrolment. */
  int k = 1 + sample_cum(b->activity_cum, 0, GB_MAX_ORDERS - 1, rng_unit(&r));
  const double *all = b->day_cum[2];
  double tenure = (all[last + 1] - all[enrol_day]) / all[last + 1];
  int n = 1 + (int)((k - 1) * tenure + rng_unit(&r));
  if (n > GB_MAX_ORDERS)
    n = GB_MAX_ORDERS;

  for (int j = 0; j < n; j++) {
    gb_order *o = &m->orders[j];
    gb_channel channel = home;
    if (j == 0 && !before && rng_chance(&r, P_BUY_AT_ENROL)) {
      o->at = m->enrolled_at + 60 + rng_below(&r, 1800);
    } else {
      if (m->has_phone && !rng_chance(&r, P_HOME_CHANNEL))
        channel = (gb_channel)sample_weights(&r, order_channel_weights, GB_N_CHANNELS);
      bool online = channel != GB_POS;
      int day = sample_cum(b->day_cum[online ? 1 : 0], enrol_day, last, rng_unit(&r));
      o->at = sample_time(&r, b->first_day + day, online);
      if (o->at < m->enrolled_at)
        o->at = m->enrolled_at + 60 + rng_below(&r, 1800);
    }
    if (o->at > end)
      o->at = end;
    bool online = channel != GB_POS;
    if (online)
      o->store = online_shop(channel);
    else
      o->store = rng_chance(&r, 0.8)
                     ? near_store
                     : (uint16_t)sample_cum(b->store_cum, 0, GB_N_POS - 1, rng_unit(&r));
    o->amount = sample_amount(&r, level, online);
    o->refunded = 0;
    o->refund_at = 0;
    add_refund(b, &r, o, online);
    o->ref = (uint8_t)order_ref(&r, channel, m->has_phone);
    if (channel_identity(channel) != GB_REF_PHONE)
      m->identities |= (uint8_t)(1u << channel_identity(channel));
  }
  m->n_orders = n;
  /* Insertion sort by time, stable: the receipt number j follows the purchase order. */
  for (int i = 1; i < n; i++) {
    gb_order o = m->orders[i];
    int j = i;
    for (; j > 0 && m->orders[j - 1].at > o.at; j--)
      m->orders[j] = m->orders[j - 1];
    m->orders[j] = o;
  }
}

gb_ref gb_member_key_ref(const gb_member *m)
{
  if (m->has_phone)
    return GB_REF_PHONE;
  for (int k = GB_REF_TMALL_NICK; k < GB_N_REFS; k++)
    if (m->identities & (1u << k))
      return (gb_ref)k;
  return GB_REF_PHONE;  /* not reached: a member without a phone has an identity */
}

/* ---- the person ------------------------------------------------------------------------ */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金"};
static const char *const given[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "燕", "玲", "婷", "雪", "琳", "晶",
    "颖", "欣", "怡", "佳", "慧", "倩", "洁", "琪", "萍", "红", "梅", "莉", "丹", "蕾", "璐",
    "瑶", "楠", "悦", "思", "雨", "梦", "涵", "诗", "晓", "彤", "妍", "嘉", "宇", "伟", "磊",
    "强", "军", "洋", "杰", "浩", "鹏", "婧", "然", "露", "薇", "菲", "晴", "岚", "一", "子"};
#define N_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

void gb_member_person(const gb_brand *b, uint32_t index, char name[16], int32_t *birthday)
{
  rng r;
  rng_seed(&r, b->seed, index, STREAM_PERSON);
  const char *s = surnames[rng_below(&r, N_OF(surnames))];
  const char *g1 = given[rng_below(&r, N_OF(given))];
  const char *g2 = rng_chance(&r, 0.7) ? given[rng_below(&r, N_OF(given))] : "";
  snprintf(name, 16, "%s%s%s", s, g1, g2);
  *birthday = -1;
  if (!rng_chance(&r, 0.6))
    return;
  /* Ages 18-65 at the end, around 33. */
  int age = (int)(33.0 + 9.0 * rng_normal(&r));
  age = age < 18 ? 18 : age > 65 ? 65 : age;
  int y, mo, d;
  gb_civil_from_days(b->last_day, &y, &mo, &d);
  int32_t jan1 = gb_days_from_civil(y - age, 1, 1);
  int32_t next = gb_days_from_civil(y - age + 1, 1, 1);
  *birthday = jan1 + (int32_t)rng_below(&r, (uint32_t)(next - jan1));
}

/* ---- references ------------------------------------------------------------------------ */

static const char *const phone_prefixes[] = {
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "198", "199"};
static const char *const nick_prefixes[] = {
    "tb", "爱穿搭的", "小", "喵喵", "momo", "阿", "快乐的", "lucky", "晴天", "星星"};

void gb_member_ref(const gb_brand *b, uint32_t index, gb_ref ref, bool with_kind, char *buf)
{
  const char *kind = with_kind && ref != GB_REF_PHONE ? gb_ref_kinds[ref] : "";
  const char *colon = *kind ? ":" : "";
  uint64_t h = mix64(b->seed ^ mix64((uint64_t)index * 31 + ref));
  switch (ref) {
  case GB_REF_PHONE:
    sprintf(buf, "%s%08u", phone_prefixes[h % N_OF(phone_prefixes)],
            bij8(b, index, 0x70686f6e65));
    break;
  case GB_REF_POS_CARD:
    sprintf(buf, "%s%s88%08u", kind, colon, bij8(b, index, 0x63617264));
    break;
  case GB_REF_TMALL_NICK:
    sprintf(buf, "%s%s%s%08u", kind, colon, nick_prefixes[h % N_OF(nick_prefixes)],
            bij8(b, index, 0x6e69636b));
    break;
  case GB_REF_JD_PIN:
    sprintf(buf, "%s%sjd_%010llx", kind, colon,
            (unsigned long long)permute40(index, mix64(b->seed ^ 0x6a64)));
    break;
  case GB_REF_WECHAT_OPENID: {
    /* 28 characters starting with "o": 7 unique ones from the index, 20 random. */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t u = permute40(index, mix64(b->seed ^ 0x7778));
    char id[29];
    id[0] = 'o';
    for (int i = 1; i <= 7; i++, u >>= 6)
      id[i] = b64[u & 63];
    for (int i = 8; i < 28; i++) {
      h = mix64(h + (uint64_t)i);
      id[i] = b64[h & 63];
    }
    id[28] = '\0';
    sprintf(buf, "%s%s%s", kind, colon, id);
    break;
  }
  default:
    buf[0] = '\0';
  }
}

void gb_order_id(const gb_brand *b, uint32_t index, int j, const gb_store *store, char *buf)
{
  static const char prefix[GB_N_CHANNELS] = {'R', 'T', 'J', 'W', 'S', 'D'};
  uint64_t n = permute40(((uint64_t)index << 8) | (uint64_t)j, mix64(b->seed ^ 0x6f72646572));
  sprintf(buf, "%c%013llu", prefix[store->channel], (unsigned long long)n);
}

/* ---- points ---------------------------------------------------------------------------- */

typedef struct points_event {
  int64_t at;
  int kind;   /* 0 purchase, 1 refund, 2 redemption: the order at equal times */
  int order;  /* index in m->orders, or -1 */
} points_event;

static int compare_events(const void *pa, const void *pb)
{
  const points_event *a = pa, *b = pb;
  if (a->at != b->at)
    return a->at < b->at ? -1 : 1;
  if (a->kind != b->kind)
    return a->kind - b->kind;
  return a->order - b->order;
}

/* Takes up to want points from the lots, oldest first; returns what it took. */
static int64_t take_points(int64_t *lots, int n_lots, int64_t want)
{
  int64_t took = 0;
  for (int y = 0; y < n_lots && took < want; y++) {
    int64_t t = lots[y] < want - took ? lots[y] : want - took;
    lots[y] -= t;
    took += t;
  }
  return took;
}

int gb_member_points(const gb_brand *b, const gb_member *m, gb_lot live[GB_MAX_YEARS + 2],
                     gb_lot *expired)
{
  int first_year, last_year, mo, d;
  gb_civil_from_days(b->first_day, &first_year, &mo, &d);
  gb_civil_from_days(b->last_day, &last_year, &mo, &d);
  const int n_lots = last_year - first_year + 1;
  int64_t lots[GB_MAX_YEARS + 2] = {0};
  expired->points = 0;
  expired->expires_on = 0;
  if (m->n_orders == 0)
    return 0;

  points_event events[2 * GB_MAX_ORDERS + 4];
  int n = 0;
  for (int j = 0; j < m->n_orders; j++) {
    events[n++] = (points_event){m->orders[j].at, 0, j};
    if (m->orders[j].refunded > 0)
      events[n++] = (points_event){m->orders[j].refund_at, 1, j};
  }
  rng r;
  rng_seed(&r, b->seed, m->index, STREAM_POINTS);
  if (rng_chance(&r, 0.11)) {  /* a redeemer: 1-3 redemptions after the first purchase */
    int64_t from = m->orders[0].at;
    int64_t span = (int64_t)b->last_day * 86400 + 86399 - from;
    int times = 1 + (int)rng_below(&r, 3);
    for (int t = 0; t < times; t++)
      events[n++] = (points_event){from + (int64_t)(rng_unit(&r) * (double)span), 2, -1};
  }
  qsort(events, (size_t)n, sizeof events[0], compare_events);

  int next_expiry = 0;  /* the oldest lot not yet expired */
  for (int e = 0; e <= n; e++) {
    /* The last round only expires what is past at the end of the last day. */
    int64_t at = e < n ? events[e].at : (int64_t)b->last_day * 86400 + 86399;
    for (; next_expiry < n_lots; next_expiry++) {
      int32_t expires_on = gb_days_from_civil(first_year + next_expiry + 1, 12, 31);
      if ((int64_t)(expires_on + 1) * 86400 > at)
        break;
      if (lots[next_expiry] > 0)
        *expired = (gb_lot){expires_on, lots[next_expiry]};
      lots[next_expiry] = 0;
    }
    if (e == n)
      break;
    const points_event *ev = &events[e];
    if (ev->kind == 0) {
      const gb_order *o = &m->orders[ev->order];
      lots[year_of_seconds(o->at) - first_year] += o->amount / 100;
    } else if (ev->kind == 1) {
      const gb_order *o = &m->orders[ev->order];
      int64_t claw = (int64_t)(o->amount / 100) * o->refunded / o->amount;
      int y = year_of_seconds(o->at) - first_year;
      int64_t own = lots[y] < claw ? lots[y] : claw;
      lots[y] -= own;
      take_points(lots, n_lots, claw - own);  /* what is not there is lost */
    } else {
      int64_t avail = 0;
      for (int y = 0; y < n_lots; y++)
        avail += lots[y];
      if (avail >= 200)
        take_points(lots, n_lots, (int64_t)((double)avail * (0.3 + 0.7 * rng_unit(&r))) / 100 * 100);
    }
  }
  int n_live = 0;
  for (int y = next_expiry; y < n_lots; y++)
    if (lots[y] > 0)
      live[n_live++] = (gb_lot){gb_days_from_civil(first_year + y + 1, 12, 31), lots[y]};
  return n_live;
}
