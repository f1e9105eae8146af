/*
 * services.h - the services loyaltyd serves, and the method tables they are made of.
 *
 * Each handler file binds its own methods (a static rpc_method_binding array, exported as an
 * rpc_bindings); services.c puts each service together from those tables, and rpc.c matches
 * them to the service's methods by name. A method of the proto that no table binds stops
 * the server at start ("no handler for ...").
 *
 * INTERFACE ROUTINES
 *   points_service, admin_service, health_service   built in services.c
 *   <file>_methods                                  the methods bound in <file>.c
 */
#ifndef LOYALTY_SERVICES_H
#define LOYALTY_SERVICES_H

#include "rpc.h"

extern const rpc_service points_service; /* loyalty.v1.Points: store and HQ keys */
extern const rpc_service admin_service;  /* loyalty.v1.Admin: HQ keys only */
extern const rpc_service health_service; /* grpc.health.v1.Health: no credentials */

/* loyalty.v1.Points */
extern const rpc_bindings members_methods; /* EnrollMember, GetMember, LinkIdentity, SetBirthday */
extern const rpc_bindings points_methods;  /* Earn, Redeem, Refund, CancelRedemption,
                                              GetBalance, ListTransactions */
extern const rpc_bindings pending_methods; /* ConfirmOrder */

/* loyalty.v1.Admin */
extern const rpc_bindings points_admin_methods; /* AdjustPoints */
extern const rpc_bindings stores_methods;       /* CreateStore, ListStores, SetPhoneAccess */
extern const rpc_bindings keys_methods;     /* IssueStoreKey, IssueHqKey, RotateKey, ListKeys,
                                               RevokeKey */
extern const rpc_bindings program_methods;  /* GetProgram, UpdateProgram */
extern const rpc_bindings tiers_methods;    /* ListTierChanges, EvaluateTiers, SetTier */
extern const rpc_bindings merge_methods;    /* MergeMembers */
extern const rpc_bindings campaigns_methods; /* CreateCampaign, ListCampaigns, EndCampaign */
extern const rpc_bindings expiry_methods;    /* RunExpiry, ListExpiringPoints */
extern const rpc_bindings pending_admin_methods; /* ReleasePending */
extern const rpc_bindings audit_methods;     /* VerifyAudit */
extern const rpc_bindings audit_list_methods; /* ListAudit */
extern const rpc_bindings import_methods;     /* ImportRows */
extern const rpc_bindings report_members_methods; /* ReportLifecycle, ReportMigration,
                                                     ReportRfm, ReportKpis, ReportStores */
extern const rpc_bindings report_points_methods; /* ReportLiability, ReportSettlement,
                                                    ReportCampaign */

/* grpc.health.v1.Health */
extern const rpc_bindings health_methods; /* Check */

#endif
