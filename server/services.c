/*
 * services.c - the services loyaltyd serves, put together from the handler files' method
 * tables (see services.h): which methods make up Points, Admin and Health, and who may call
 * them.
 */
#include "grpc/health/v1/health.pb-c.h"
#include "loyalty/v1/admin.pb-c.h"
#include "loyalty/v1/points.pb-c.h"
#include "services.h"

#define N_TABLES(tables) (sizeof(tables) / sizeof((tables)[0]))

static const rpc_bindings *const points_tables[] = {
  &members_methods,
  &points_methods,
  &pending_methods,
};

const rpc_service points_service = {
  .descriptor = &loyalty__v1__points__descriptor,
  .access = RPC_STORES,
  .tables = points_tables,
  .n_tables = N_TABLES(points_tables),
};

static const rpc_bindings *const admin_tables[] = {
  &stores_methods,
  &keys_methods,
  &program_methods,
  &points_admin_methods,
  &tiers_methods,
  &merge_methods,
  &campaigns_methods,
  &expiry_methods,
  &pending_admin_methods,
  &audit_methods,
  &audit_list_methods,
  &import_methods,
  &report_members_methods,
  &report_points_methods,
};

const rpc_service admin_service = {
  .descriptor = &loyalty__v1__admin__descriptor,
  .access = RPC_HQ,
  .tables = admin_tables,
  .n_tables = N_TABLES(admin_tables),
};

static const rpc_bindings *const health_tables[] = {
  &health_methods,
};

const rpc_service health_service = {
  .descriptor = &grpc__health__v1__health__descriptor,
  .access = RPC_PUBLIC,
  .tables = health_tables,
  .n_tables = N_TABLES(health_tables),
};
