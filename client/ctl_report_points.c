/*
 * ctl_report_points.c - loyaltyctl report liability|settlement|campaign: HQ's reports on
 * points (docs/analytics.md), on the report framework of ctl_report.c (report time, the
 * call, --json, bars).
 *
 * INTERFACE ROUTINES
 *   ctl_report_liability    the points liability of a period
 *   ctl_report_settlement   cross-store settlement of a period
 *   ctl_report_campaign     a campaign's cost
 */
#include "ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN(m) "/loyalty.v1.Admin/" m

/* A party of the settlement: a store code, or HQ ("" in the answer). */
static const char *party(const char *code)
{
  return code[0] != '\0' ? code : "HQ";
}

static bool points_period_args(const ctl_args *args, const char *name, const char *extra)
{
  if (args->n_positional != 0) {
    ctl_usage_error("usage: report %s%s [--from DATE] [--as-of DATE] [--known-at TIME]"
                    " [--json | --csv]",
                    name, extra);
    return false;
  }
  return true;
}

/* One line of the liability: name, points, and their value in yuan when priced. */
static void liability_line(bool csv, const char *name, int64_t points, const int64_t *cents)
{
  char yuan[32] = "";
  if (csv) {
    printf("%s,%" PRId64 ",", name, points);
    if (cents != NULL)
      printf("%" PRId64, *cents);
    putchar('\n');
    return;
  }
  if (cents != NULL)
    ctl_format_yuan(yuan, sizeof yuan, *cents);
  printf("  %-28s %14" PRId64 "  %s%s\n", name, points, yuan, cents != NULL ? " yuan" : "");
}

int ctl_report_liability(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__LiabilityReportRequest req = LOYALTY__V1__LIABILITY_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  if (!points_period_args(args, "liability", ""))
    return CTL_EXIT_USAGE;
  ctl_report_time(args, &t);
  req.time = &t;
  req.from_date = (char *)(ctl_arg(args, "from") ? ctl_arg(args, "from") : "");
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportLiability"), &req.base,
                           &loyalty__v1__liability_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__LiabilityReport *l = (const Loyalty__V1__LiabilityReport *)response;
  bool csv = ctl_flag(args, "csv");
  if (csv)
    printf("line,points,value_cents\n");
  else
    printf("points liability %s .. %s (known at %s), a point worth %d millicents\n",
           l->from_date, l->time->as_of, l->time->known_at, l->point_value_millicents);
  const struct {
    const char *name;
    int64_t points;
    const int64_t *cents;
  } lines[] = {
    {"opening", l->opening, NULL},
    {"+ earned (credited, released)", l->earned, NULL},
    {"+ imported", l->imported, NULL},
    {"+ adjusted", l->adjusted, NULL},
    {"+ cancelled redemptions", l->cancelled, NULL},
    {"+ redeemed", l->redeemed, NULL},
    {"+ clawed back by refunds", l->refunded, NULL},
    {"+ expired", l->expired, NULL},
    {"+ merged", l->merged, NULL},
    {"+ other", l->other, NULL},
    {"+ change in points owed", l->owed_change, NULL},
    {"= closing", l->closing, &l->closing_value_cents},
    {"owed by members, opening", l->opening_owed, NULL},
    {"owed by members, closing", l->closing_owed, &l->closing_owed_value_cents},
    {"pending, opening", l->opening_pending, NULL},
    {"pending, closing", l->closing_pending, &l->closing_pending_value_cents},
    {"expired, last 12 months", l->expired_12m, NULL},
    {"redeemed, last 12 months", l->redeemed_12m, NULL},
    {"expected breakage", l->expected_breakage, NULL},
    {"net of expected breakage", l->net_of_breakage, &l->net_of_breakage_value_cents},
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
    liability_line(csv, lines[i].name, lines[i].points, lines[i].cents);
  if (csv) {
    for (size_t i = 0; i < l->n_by_expiry_year; i++)
      printf("expiring %d,%" PRId64 ",%" PRId64 "\n", l->by_expiry_year[i]->year,
             l->by_expiry_year[i]->points, l->by_expiry_year[i]->value_cents);
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  printf("  breakage rate (expired / (redeemed + expired), last 12 months): %d.%02d%%\n",
         l->breakage_rate_bp / 100, l->breakage_rate_bp % 100);
  ctl_bar_row *rows = calloc(l->n_by_expiry_year + 1, sizeof *rows);
  char(*labels)[16] = calloc(l->n_by_expiry_year + 1, sizeof *labels);
  for (size_t i = 0; i < l->n_by_expiry_year; i++) {
    if (l->by_expiry_year[i]->year == 0)
      snprintf(labels[i], sizeof labels[i], "never");
    else
      snprintf(labels[i], sizeof labels[i], "%d", l->by_expiry_year[i]->year);
    rows[i] = (ctl_bar_row){labels[i], l->by_expiry_year[i]->points, NULL};
  }
  ctl_print_bars("closing by the year the points expire", "points", rows,
                 l->n_by_expiry_year, false);
  free(labels);
  free(rows);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

int ctl_report_settlement(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__SettlementReportRequest req = LOYALTY__V1__SETTLEMENT_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  if (!points_period_args(args, "settlement", ""))
    return CTL_EXIT_USAGE;
  ctl_report_time(args, &t);
  req.time = &t;
  req.from_date = (char *)(ctl_arg(args, "from") ? ctl_arg(args, "from") : "");
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportSettlement"), &req.base,
                           &loyalty__v1__settlement_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__SettlementReport *s = (const Loyalty__V1__SettlementReport *)response;
  if (ctl_flag(args, "csv")) {
    ctl_print_csv(response, true); /* the cells; "" is HQ */
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  printf("settlement %s .. %s (known at %s), a point worth %d millicents\n", s->from_date,
         s->time->as_of, s->time->known_at, s->point_value_millicents);
  printf("points earned at (row) and redeemed at (column):\n  %-12s %-12s %12s %14s\n",
         "earned at", "redeemed at", "points", "yuan");
  for (size_t i = 0; i < s->n_cells; i++) {
    char yuan[32];
    ctl_format_yuan(yuan, sizeof yuan, s->cells[i]->value_cents);
    printf("  %-12s %-12s %12" PRId64 " %14s%s\n", party(s->cells[i]->earned_at),
           party(s->cells[i]->redeemed_at), s->cells[i]->points, yuan,
           strcmp(s->cells[i]->earned_at, s->cells[i]->redeemed_at) == 0 ? "  (own)" : "");
  }
  printf("net positions (above 0: owed to the store; below: it owes):\n  %-12s %12s %12s"
         " %12s %14s\n",
         "store", "owed to", "owed by", "net", "net yuan");
  for (size_t i = 0; i < s->n_positions; i++) {
    const Loyalty__V1__SettlementPosition *p = s->positions[i];
    char yuan[32];
    ctl_format_yuan(yuan, sizeof yuan, p->net_value_cents);
    printf("  %-12s %12" PRId64 " %12" PRId64 " %12" PRId64 " %14s\n", party(p->store_code),
           p->owed_to, p->owed_by, p->net, yuan);
  }
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

int ctl_report_campaign(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__CampaignReportRequest req = LOYALTY__V1__CAMPAIGN_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  int64_t id;
  if (args->n_positional != 1 || !ctl_parse_int64(args->positional[0], &id) || id <= 0 ||
      id > INT32_MAX)
    return ctl_usage_error("usage: report campaign CAMPAIGN_ID [--as-of DATE]"
                           " [--known-at TIME] [--json | --csv]");
  req.campaign_id = (int32_t)id;
  ctl_report_time(args, &t);
  req.time = &t;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportCampaign"), &req.base,
                           &loyalty__v1__campaign_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__CampaignReport *c = (const Loyalty__V1__CampaignReport *)response;
  if (ctl_flag(args, "csv")) {
    printf("campaign_id,name,starts_at,ends_at,as_of,known_at,members,purchases,sales_cents,"
           "net_sales_cents,base_points,extra_points,shared_purchases,all_campaign_points\n");
    printf("%d,\"", c->campaign_id);
    for (const char *q = c->name; *q; q++) /* RFC 4180: quoted, quotes doubled */
      fputs(*q == '"' ? "\"\"" : (char[]){*q, 0}, stdout);
    printf("\",%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
           ",%" PRId64 ",%" PRId64 "\n",
           c->starts_at, c->ends_at, c->time->as_of, c->time->known_at, c->members,
           c->purchases, c->sales_cents, c->net_sales_cents, c->base_points, c->extra_points,
           c->shared_purchases, c->all_campaign_points);
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  char sales[32], net[32];
  ctl_format_yuan(sales, sizeof sales, c->sales_cents);
  ctl_format_yuan(net, sizeof net, c->net_sales_cents);
  printf("campaign %d %s, %s .. %s, as of %s (known at %s)\n", c->campaign_id, c->name,
         c->starts_at, c->ends_at, c->time->as_of, c->time->known_at);
  printf("  %-30s %12" PRId64 "\n  %-30s %12" PRId64 "\n  %-30s %12s yuan\n"
         "  %-30s %12s yuan\n",
         "members", c->members, "purchases", c->purchases, "sales", sales,
         "net of refunds", net);
  printf("  %-30s %12" PRId64 "\n  %-30s %12" PRId64 "\n", "purchases shared with others",
         c->shared_purchases, "all campaigns' points on them", c->all_campaign_points);
  ctl_bar_row rows[] = {{"base points", c->base_points, NULL},
                        {"extra points (this campaign)", c->extra_points, NULL}};
  ctl_print_bars("points of its purchases", "points", rows, 2, false);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}
