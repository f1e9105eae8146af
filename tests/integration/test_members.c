/*
 * test_members.c - enrolment unifies one person across stores and platforms.
 */
#include "testlib.h"

static Loyalty__V1__Member *enroll(lc_conn *conn, const char *phone, const char *kind,
                                   const char *value, grpc_status_code want)
{
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  Loyalty__V1__Identity *ids[] = {&id};
  req.request_id = (char *)tl_unique("en");
  req.phone = (char *)phone;
  req.name = "李小红";
  if (kind != NULL) {
    id.kind = (char *)kind;
    id.value = (char *)value;
    req.identities = ids;
    req.n_identities = 1;
  }
  tl_result r = tl_call(conn, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  ASSERT_STATUS(r, want);
  return (Loyalty__V1__Member *)r.response;
}

static tl_result get_member_by_phone(lc_conn *conn, const char *phone)
{
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_PHONE;
  req.phone = (char *)phone;
  return tl_call(conn, POINTS("GetMember"), &req.base, &loyalty__v1__member__descriptor);
}

static void same_phone_at_two_stores_is_one_member(void)
{
  tl_store pos = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store tmall = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  const char *phone = tl_phone();
  const char *nick = tl_unique("nick");
  Loyalty__V1__Member *first = enroll(pos.conn, phone, NULL, NULL, GRPC_STATUS_OK);
  ASSERT_EQ_STR(first->enrolled_store, pos.code);
  ASSERT_EQ_STR(first->name, "李小红");
  ASSERT_EQ_INT(first->tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED);
  Loyalty__V1__Member *second = enroll(tmall.conn, phone, "tmall_nick", nick, GRPC_STATUS_OK);
  ASSERT_EQ_INT(second->member_id, first->member_id);
  ASSERT_EQ_STR(second->enrolled_store, pos.code); /* still where they first enrolled */
  ASSERT_EQ_INT(second->n_identities, 1);
  ASSERT_EQ_STR(second->identities[0]->value, nick);
}

static void identity_alone_finds_the_member(void)
{
  tl_store mini = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WECHAT_MINI);
  const char *openid = tl_unique("o");
  const char *phone = tl_phone();
  Loyalty__V1__Member *m = enroll(mini.conn, phone, "wechat_openid", openid, GRPC_STATUS_OK);
  Loyalty__V1__Member *again = enroll(mini.conn, "", "wechat_openid", openid, GRPC_STATUS_OK);
  ASSERT_EQ_INT(again->member_id, m->member_id);
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  id.kind = "wechat_openid";
  id.value = (char *)openid;
  req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY;
  req.identity = &id;
  Loyalty__V1__Member *got = (Loyalty__V1__Member *)tl_call_ok(
      mini.conn, POINTS("GetMember"), &req.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(got->member_id, m->member_id);
  ASSERT_EQ_INT(strlen(got->phone), 11); /* masked for a store: see the test below */
  tl_result by_phone = get_member_by_phone(mini.conn, phone);
  ASSERT_STATUS(by_phone, GRPC_STATUS_OK);
  ASSERT_EQ_INT(((Loyalty__V1__Member *)by_phone.response)->member_id, m->member_id);
}

static void identity_of_another_member_is_already_exists(void)
{
  const char *card = tl_unique("card");
  enroll(tl_hq, tl_phone(), "pos_card", card, GRPC_STATUS_OK);
  /* A different phone claiming the same card. */
  enroll(tl_hq, tl_phone(), "pos_card", card, GRPC_STATUS_ALREADY_EXISTS);
  /* Linking it to yet another member. */
  Loyalty__V1__Member *other = enroll(tl_hq, tl_phone(), NULL, NULL, GRPC_STATUS_OK);
  Loyalty__V1__LinkIdentityRequest link = LOYALTY__V1__LINK_IDENTITY_REQUEST__INIT;
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  id.kind = "pos_card";
  id.value = (char *)card;
  link.request_id = (char *)tl_unique("l");
  link.member_id = other->member_id;
  link.identity = &id;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("LinkIdentity"), &link.base,
                        &loyalty__v1__member__descriptor),
                GRPC_STATUS_ALREADY_EXISTS);
}

static void link_identity_adds_and_replays(void)
{
  Loyalty__V1__Member *m = enroll(tl_hq, tl_phone(), NULL, NULL, GRPC_STATUS_OK);
  Loyalty__V1__LinkIdentityRequest link = LOYALTY__V1__LINK_IDENTITY_REQUEST__INIT;
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  id.kind = "jd_pin";
  id.value = (char *)tl_unique("pin");
  link.request_id = (char *)tl_unique("l");
  link.member_id = m->member_id;
  link.identity = &id;
  Loyalty__V1__Member *linked = (Loyalty__V1__Member *)tl_call_ok(
      tl_hq, POINTS("LinkIdentity"), &link.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(linked->n_identities, 1);
  ASSERT_EQ_STR(linked->identities[0]->kind, "jd_pin");
  linked = (Loyalty__V1__Member *)tl_call_ok(tl_hq, POINTS("LinkIdentity"), &link.base,
                                             &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(linked->n_identities, 1);
  link.member_id = 999999999;
  link.request_id = (char *)tl_unique("l");
  ASSERT_STATUS(tl_call(tl_hq, POINTS("LinkIdentity"), &link.base,
                        &loyalty__v1__member__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

static void member_of_one_store_earns_and_redeems_at_another(void)
{
  tl_store shanghai = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store jd = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_JD);
  int64_t member = tl_enroll(shanghai.conn, tl_birthday_other_month());
  ASSERT_EQ_INT(TL_POINTS(tl_earn(jd.conn, member, 50000))->points, 500);
  ASSERT_EQ_INT(TL_POINTS(tl_redeem(shanghai.conn, member, 120))->balance, 380);
  ASSERT_EQ_INT(tl_balance(jd.conn, member)->balance, 380);
}

static void unknown_member_is_not_found(void)
{
  ASSERT_STATUS(get_member_by_phone(tl_hq, "13000000000"), GRPC_STATUS_NOT_FOUND);
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID;
  req.member_id = 987654321;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("GetMember"), &req.base, &loyalty__v1__member__descriptor),
                GRPC_STATUS_NOT_FOUND);
  ASSERT_STATUS(tl_earn(tl_hq, 987654321, 100), GRPC_STATUS_NOT_FOUND);
}

static void enrollment_of_one_person_at_once_makes_one_member(void)
{
  /* Two stores enrol the same phone in turn, many times over (at the same moment:
   * test_concurrency.c). */
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WEB);
  for (int round = 0; round < 10; round++) {
    const char *phone = tl_phone();
    Loyalty__V1__Member *ma = enroll(a.conn, phone, NULL, NULL, GRPC_STATUS_OK);
    Loyalty__V1__Member *mb = enroll(b.conn, phone, NULL, NULL, GRPC_STATUS_OK);
    ASSERT_EQ_INT(ma->member_id, mb->member_id);
  }
}

static const char *phone_seen_by(lc_conn *conn, int64_t member)
{
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID;
  req.member_id = member;
  return ((Loyalty__V1__Member *)tl_call_ok(conn, POINTS("GetMember"), &req.base,
                                            &loyalty__v1__member__descriptor))->phone;
}

static tl_result set_phone_access(const char *store_code, bool full)
{
  Loyalty__V1__SetPhoneAccessRequest req = LOYALTY__V1__SET_PHONE_ACCESS_REQUEST__INIT;
  req.store_code = (char *)store_code;
  req.sees_full_phone = full;
  return tl_call(tl_hq, ADMIN("SetPhoneAccess"), &req.base, &loyalty__v1__store__descriptor);
}

static void stores_see_phones_masked_unless_granted(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  const char *phone = tl_phone();
  Loyalty__V1__Member *m = enroll(s.conn, phone, NULL, NULL, GRPC_STATUS_OK);
  char masked[16];
  snprintf(masked, sizeof masked, "%.3s****%s", phone, phone + 7);
  ASSERT_EQ_STR(m->phone, masked);
  ASSERT_EQ_STR(phone_seen_by(s.conn, m->member_id), masked);
  ASSERT_EQ_STR(phone_seen_by(tl_hq, m->member_id), phone);
  /* Looking a member up by the full phone still works for the store. */
  ASSERT_STATUS(get_member_by_phone(s.conn, phone), GRPC_STATUS_OK);

  tl_result granted = set_phone_access(s.code, true);
  ASSERT_STATUS(granted, GRPC_STATUS_OK);
  ASSERT_TRUE(((Loyalty__V1__Store *)granted.response)->sees_full_phone);
  ASSERT_EQ_STR(phone_seen_by(s.conn, m->member_id), phone);
  ASSERT_STATUS(set_phone_access(s.code, false), GRPC_STATUS_OK);
  ASSERT_EQ_STR(phone_seen_by(s.conn, m->member_id), masked);
  ASSERT_STATUS(set_phone_access("NOSUCHSTORE", true), GRPC_STATUS_NOT_FOUND);
  /* Only HQ grants. */
  Loyalty__V1__SetPhoneAccessRequest req = LOYALTY__V1__SET_PHONE_ACCESS_REQUEST__INIT;
  req.store_code = (char *)s.code;
  req.sees_full_phone = true;
  ASSERT_STATUS(tl_call(s.conn, ADMIN("SetPhoneAccess"), &req.base,
                        &loyalty__v1__store__descriptor),
                GRPC_STATUS_PERMISSION_DENIED);
}

static tl_result set_birthday(lc_conn *conn, int64_t member, const char *birthday)
{
  Loyalty__V1__SetBirthdayRequest req = LOYALTY__V1__SET_BIRTHDAY_REQUEST__INIT;
  req.request_id = (char *)tl_unique("bd");
  req.member_id = member;
  req.birthday = (char *)birthday;
  return tl_call(conn, POINTS("SetBirthday"), &req.base, &loyalty__v1__member__descriptor);
}

static void birthday_changes_at_most_once_a_year(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, "1990-03-05");
  tl_result first = set_birthday(s.conn, m, "1990-04-05");
  ASSERT_STATUS(first, GRPC_STATUS_OK);
  ASSERT_EQ_STR(((Loyalty__V1__Member *)first.response)->birthday, "1990-04-05");
  tl_result second = set_birthday(s.conn, m, "1990-11-05");
  ASSERT_STATUS(second, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(second.message, "already changed within a year");
  /* HQ overrides, on record. */
  ASSERT_STATUS(set_birthday(tl_hq, m, "1990-11-05"), GRPC_STATUS_OK);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT detail FROM admin_audit WHERE action = 'override_birthday' AND subject = '%" PRId64
           "'", m);
  ASSERT_EQ_STR(tl_sql_value(sql), "1990-04-05 -> 1990-11-05");
  /* An unknown birthday may be set, and then changed once. */
  int64_t unknown = tl_enroll(s.conn, "");
  ASSERT_STATUS(set_birthday(s.conn, unknown, "1985-06-01"), GRPC_STATUS_OK);
  ASSERT_STATUS(set_birthday(s.conn, unknown, "1985-07-01"), GRPC_STATUS_OK);
  ASSERT_STATUS(set_birthday(s.conn, unknown, "1985-08-01"), GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_STATUS(set_birthday(s.conn, unknown, "1985-13-01"), GRPC_STATUS_INVALID_ARGUMENT);
}

/* The refusal says when the birthday was changed as a date in the program's time zone
 * (Asia/Shanghai by default), not in UTC. */
static void birthday_refusal_names_the_date_in_the_brand_time_zone(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, "1990-03-05");
  ASSERT_STATUS(set_birthday(s.conn, m, "1990-04-05"), GRPC_STATUS_OK);
  /* Changed at 23:30 UTC yesterday: 07:30 today in Shanghai. */
  char sql[512];
  snprintf(sql, sizeof sql,
           "UPDATE members SET birthday_changed_at ="
           " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '30 minutes'"
           " WHERE member_id = %" PRId64, m);
  tl_sql(sql);
  snprintf(sql, sizeof sql,
           "SELECT 'changed on ' || to_char(m.birthday_changed_at AT TIME ZONE p.time_zone,"
           " 'YYYY-MM-DD') FROM members m CROSS JOIN program p WHERE m.member_id = %" PRId64, m);
  const char *local = tl_sql_value(sql);
  snprintf(sql, sizeof sql,
           "SELECT 'changed on ' || to_char(birthday_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
           " FROM members WHERE member_id = %" PRId64, m);
  const char *utc = tl_sql_value(sql);
  ASSERT_TRUE(strcmp(local, utc) != 0); /* the program's time zone is not UTC's here */
  tl_result second = set_birthday(s.conn, m, "1990-11-05");
  ASSERT_STATUS(second, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(second.message, "birthday already changed within a year");
  ASSERT_CONTAINS(second.message, local);
}

static Loyalty__V1__Member *get_member(lc_conn *conn, int64_t member)
{
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID;
  req.member_id = member;
  return (Loyalty__V1__Member *)tl_call_ok(conn, POINTS("GetMember"), &req.base,
                                           &loyalty__v1__member__descriptor);
}

static void enrolling_again_keeps_name_and_birthday(void)
{
  const char *phone = tl_phone();
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("en");
  req.phone = (char *)phone;
  req.name = "张三";
  req.birthday = "1990-05-06";
  Loyalty__V1__Member *first = (Loyalty__V1__Member *)tl_call_ok(
      tl_hq, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  Loyalty__V1__Identity *ids[] = {&id};
  id.kind = "jd_pin";
  id.value = (char *)tl_unique("pin");
  req.request_id = (char *)tl_unique("en");
  req.name = "李四";
  req.birthday = "1985-01-01";
  req.identities = ids;
  req.n_identities = 1;
  Loyalty__V1__Member *again = (Loyalty__V1__Member *)tl_call_ok(
      tl_hq, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(again->member_id, first->member_id);
  ASSERT_EQ_STR(again->name, "张三");
  ASSERT_EQ_STR(again->birthday, "1990-05-06");
  ASSERT_EQ_INT(again->n_identities, 1); /* the new identity is linked */
  ASSERT_EQ_STR(again->identities[0]->value, id.value);
  Loyalty__V1__Member *read = get_member(tl_hq, first->member_id);
  ASSERT_EQ_STR(read->name, "张三");
  ASSERT_EQ_STR(read->birthday, "1990-05-06");
}

static void refused_enrolment_links_nothing(void)
{
  const char *card = tl_unique("card");
  Loyalty__V1__Member *owner = enroll(tl_hq, tl_phone(), "pos_card", card, GRPC_STATUS_OK);
  Loyalty__V1__Member *m = enroll(tl_hq, tl_phone(), NULL, NULL, GRPC_STATUS_OK);
  /* m's phone with a new identity and the owner's card: refused as a whole. */
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  Loyalty__V1__Identity fresh = LOYALTY__V1__IDENTITY__INIT, taken = LOYALTY__V1__IDENTITY__INIT;
  Loyalty__V1__Identity *ids[] = {&fresh, &taken};
  fresh.kind = "tmall_nick";
  fresh.value = (char *)tl_unique("nick");
  taken.kind = "pos_card";
  taken.value = (char *)card;
  req.request_id = (char *)tl_unique("en");
  req.phone = get_member(tl_hq, m->member_id)->phone;
  req.identities = ids;
  req.n_identities = 2;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor),
                GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_EQ_INT(get_member(tl_hq, m->member_id)->n_identities, 0);
  ASSERT_EQ_INT(get_member(tl_hq, owner->member_id)->n_identities, 1);
  Loyalty__V1__GetMemberRequest get = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  get.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY;
  get.identity = &fresh;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("GetMember"), &get.base, &loyalty__v1__member__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

static void member_shows_points_tier_and_spend(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  const char *birthday = tl_birthday_other_month();
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("en");
  req.phone = (char *)tl_phone();
  req.name = "王芳";
  req.birthday = (char *)birthday;
  Loyalty__V1__Member *m = (Loyalty__V1__Member *)tl_call_ok(
      s.conn, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(m->balance, 0);
  ASSERT_EQ_INT(m->lifetime_spend_cents, 0);
  ASSERT_TRUE(m->created_at[0] != '\0');
  tl_earn(s.conn, m->member_id, 60000);
  Loyalty__V1__Member *read = get_member(tl_hq, m->member_id);
  ASSERT_EQ_INT(read->balance, 600);
  ASSERT_EQ_INT(read->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_EQ_INT(read->lifetime_spend_cents, 60000);
  ASSERT_EQ_STR(read->birthday, birthday);
  ASSERT_EQ_STR(read->name, "王芳");
  ASSERT_EQ_STR(read->phone, req.phone); /* in full for HQ */
  ASSERT_EQ_STR(read->enrolled_store, s.code);
  ASSERT_EQ_STR(enroll(tl_hq, tl_phone(), NULL, NULL, GRPC_STATUS_OK)->enrolled_store, "");
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"same_phone_at_two_stores_is_one_member", same_phone_at_two_stores_is_one_member},
    {"identity_alone_finds_the_member", identity_alone_finds_the_member},
    {"identity_of_another_member_is_already_exists", identity_of_another_member_is_already_exists},
    {"link_identity_adds_and_replays", link_identity_adds_and_replays},
    {"member_of_one_store_earns_and_redeems_at_another",
     member_of_one_store_earns_and_redeems_at_another},
    {"unknown_member_is_not_found", unknown_member_is_not_found},
    {"enrollment_of_one_person_at_once_makes_one_member",
     enrollment_of_one_person_at_once_makes_one_member},
    {"stores_see_phones_masked_unless_granted", stores_see_phones_masked_unless_granted},
    {"birthday_changes_at_most_once_a_year", birthday_changes_at_most_once_a_year},
    {"birthday_refusal_names_the_date_in_the_brand_time_zone",
     birthday_refusal_names_the_date_in_the_brand_time_zone},
    {"enrolling_again_keeps_name_and_birthday", enrolling_again_keeps_name_and_birthday},
    {"refused_enrolment_links_nothing", refused_enrolment_links_nothing},
    {"member_shows_points_tier_and_spend", member_shows_points_tier_and_spend},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
