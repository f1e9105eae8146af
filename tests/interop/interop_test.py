"""Interoperability: the main flows through Debian's python3-grpcio, a gRPC stack we did not
write, with stubs generated from proto/ at test time (see run.sh).

Usage: interop_test.py STUB_DIR   (LOYALTY_TEST_ENV names the harness's env file)
"""
import datetime
import importlib.util
import os
import random
import sys

import grpc

sys.path.insert(0, sys.argv[1])
from loyalty.v1 import admin_pb2, admin_pb2_grpc, common_pb2, points_pb2, points_pb2_grpc  # noqa: E402

# grpc/health/v1/health_pb2.py would shadow the grpc package if imported as a package.
_spec = importlib.util.spec_from_file_location(
    "health_pb2", os.path.join(sys.argv[1], "grpc", "health", "v1", "health_pb2.py"))
health_pb2 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health_pb2)

env = dict(line.strip().split("=", 1) for line in open(os.environ["LOYALTY_TEST_ENV"]) if "=" in line)
channel = grpc.insecure_channel(env["LOYALTY_TEST_SERVER"])
hq = [("authorization", "Bearer " + env["LOYALTY_TEST_HQ_KEY"])]
admin = admin_pb2_grpc.AdminStub(channel)
points = points_pb2_grpc.PointsStub(channel)
tag = "%d%04d" % (os.getpid() % 100000, random.randint(0, 9999))


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except grpc.RpcError as e:
        assert e.code() == code, (e.code(), e.details())
        return e.details()
    raise AssertionError("expected %s" % code)


check = channel.unary_unary("/grpc.health.v1.Health/Check",
                            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                            response_deserializer=health_pb2.HealthCheckResponse.FromString)
assert check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING

store = admin.CreateStore(admin_pb2.CreateStoreRequest(
    store_code="PY" + tag, name="上海南京路店", channel=common_pb2.CHANNEL_POS, region="SH"), metadata=hq)
assert store.name == "上海南京路店" and store.channel == common_pb2.CHANNEL_POS
assert any(s.store_code == store.store_code
           for s in admin.ListStores(admin_pb2.ListStoresRequest(), metadata=hq).stores)
key = admin.IssueStoreKey(admin_pb2.IssueStoreKeyRequest(store_code=store.store_code), metadata=hq)
till = [("authorization", "Bearer " + key.secret)]

phone = "16%09d" % (int(tag) % 10**9)
# A birthday month other than this one in Asia/Shanghai (UTC+8 all year): no double points.
this_month = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).month
member = points.EnrollMember(points_pb2.EnrollMemberRequest(
    request_id="py-en-" + tag, phone=phone, name="王芳", birthday="1991-%02d-01" % (this_month % 12 + 1),
    identities=[common_pb2.Identity(kind="wechat_unionid", value="u" + tag)]), metadata=till)
assert member.phone == phone[:3] + "****" + phone[7:], member.phone  # masked for stores
assert member.enrolled_store == store.store_code
mid = member.member_id

earn_request = points_pb2.EarnRequest(request_id="py-e-" + tag, member_id=mid,
                                      order_id="py-o-" + tag, amount_cents=150000)
earned = points.Earn(earn_request, metadata=till)
assert (earned.points, earned.balance, earned.tier, earned.tier_changed, earned.replayed) == \
    (1500, 1500, common_pb2.TIER_SENIOR, True, False), earned
replay = points.Earn(earn_request, metadata=till)
assert replay.replayed and replay.transaction_id == earned.transaction_id and replay.points == 1500
# The same request_id with other content.
details = expect_error(grpc.StatusCode.ALREADY_EXISTS, points.Earn, points_pb2.EarnRequest(
    request_id="py-e-" + tag, member_id=mid, order_id="py-o-" + tag, amount_cents=150001),
    metadata=till)
assert "request_id already used" in details, details

redeemed = points.Redeem(points_pb2.RedeemRequest(request_id="py-r-" + tag, member_id=mid,
                                                  points=500, reason="gift"), metadata=till)
assert redeemed.points == -500 and redeemed.balance == 1000
details = expect_error(grpc.StatusCode.FAILED_PRECONDITION, points.Redeem,
                       points_pb2.RedeemRequest(request_id="py-r2-" + tag, member_id=mid,
                                                points=10**6), metadata=till)
assert "insufficient points" in details

cancelled = points.CancelRedemption(points_pb2.CancelRedemptionRequest(
    request_id="py-c-" + tag, member_id=mid, redemption_id=redeemed.transaction_id), metadata=till)
assert cancelled.points == 500 and cancelled.balance == 1500
details = expect_error(grpc.StatusCode.FAILED_PRECONDITION, points.CancelRedemption,
                       points_pb2.CancelRedemptionRequest(request_id="py-c2-" + tag, member_id=mid,
                                                          redemption_id=redeemed.transaction_id),
                       metadata=till)
assert "already cancelled" in details, details

# A partial refund first: floor(1500 * 50000 / 150000) = 500.
partial = points.Refund(points_pb2.RefundRequest(request_id="py-f0-" + tag, member_id=mid,
                                                 transaction_id=earned.transaction_id,
                                                 amount_cents=50000), metadata=till)
assert partial.points == -500 and partial.balance == 1000, partial

details = expect_error(grpc.StatusCode.FAILED_PRECONDITION, points.Refund,
                       points_pb2.RefundRequest(request_id="py-fx-" + tag, member_id=mid,
                                                order_id="py-o-" + tag, amount_cents=100001),
                       metadata=till)
assert "refund exceeds the remaining amount" in details, details
refunded = points.Refund(points_pb2.RefundRequest(request_id="py-f-" + tag, member_id=mid,
                                                  order_id="py-o-" + tag, amount_cents=100000),
                         metadata=till)
assert refunded.points == -1000 and refunded.balance == 0 and refunded.tier == common_pb2.TIER_ORDINARY

balance = points.GetBalance(points_pb2.GetBalanceRequest(member_id=mid), metadata=till)
assert balance.balance == 0 and balance.lifetime_spend_cents == 0
assert balance.next_tier == common_pb2.TIER_SENIOR and balance.spend_to_next_tier_cents == 50000
history = points.ListTransactions(points_pb2.ListTransactionsRequest(member_id=mid), metadata=till)
assert [(t.kind, t.points, t.balance_after) for t in history.transactions] == [
    ("refund", -1000, 0), ("refund", -500, 1000), ("cancel_redemption", 500, 1500),
    ("redeem", -500, 1000), ("earn", 1500, 1500)], history
page = points.ListTransactions(points_pb2.ListTransactionsRequest(member_id=mid, page_size=2),
                               metadata=till)
assert len(page.transactions) == 2 and page.next_page_token
rest = points.ListTransactions(points_pb2.ListTransactionsRequest(
    member_id=mid, page_size=2, page_token=page.next_page_token), metadata=till)
assert [t.kind for t in rest.transactions] == ["cancel_redemption", "redeem"]

by_identity = points.GetMember(points_pb2.GetMemberRequest(
    identity=common_pb2.Identity(kind="wechat_unionid", value="u" + tag)), metadata=till)
assert by_identity.member_id == mid

details = expect_error(grpc.StatusCode.UNAUTHENTICATED, points.GetBalance,
                       points_pb2.GetBalanceRequest(member_id=mid))
assert details == "missing credentials", details
# Malformed headers (which our own client cannot send): missing credentials too.
for value in ("Basic " + key.secret, key.secret, "Bearer", "Bearer ", "bearer" + key.secret):
    details = expect_error(grpc.StatusCode.UNAUTHENTICATED, points.GetBalance,
                           points_pb2.GetBalanceRequest(member_id=mid),
                           metadata=[("authorization", value)])
    assert details == "missing credentials", (value, details)
details = expect_error(grpc.StatusCode.UNAUTHENTICATED, points.GetBalance,
                       points_pb2.GetBalanceRequest(member_id=mid),
                       metadata=[("authorization", "Bearer lk_" + "A" * 43)])
assert details == "invalid credentials", details
expect_error(grpc.StatusCode.NOT_FOUND, points.GetBalance,
             points_pb2.GetBalanceRequest(member_id=987654321), metadata=till)
expect_error(grpc.StatusCode.PERMISSION_DENIED, admin.ListStores, admin_pb2.ListStoresRequest(),
             metadata=till)
expect_error(grpc.StatusCode.INVALID_ARGUMENT, points.Earn,
             points_pb2.EarnRequest(request_id="py-bad-" + tag, member_id=mid, order_id="x",
                                    amount_cents=-1), metadata=till)

# Bytes that are no protobuf message at all, through a raw method.
raw = channel.unary_unary("/loyalty.v1.Points/Earn")
expect_error(grpc.StatusCode.INVALID_ARGUMENT, raw, b"\x0a\xff\xff\xff\xff\x0f", metadata=till)

# Random bytes to every method: each gets a status (never a crash or hang), and the server
# still serves afterwards.
rng = random.Random(20261123)
methods = ["/loyalty.v1.Points/" + m for m in (
    "EnrollMember", "GetMember", "LinkIdentity", "Earn", "Redeem", "Refund",
    "CancelRedemption", "GetBalance", "ListTransactions")] + \
    ["/loyalty.v1.Admin/" + m for m in ("CreateStore", "ListStores", "IssueStoreKey", "RevokeKey")]
allowed = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
           grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION}
for i in range(400):
    method = methods[i % len(methods)]
    body = bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 8, 40, 300])))
    try:
        channel.unary_unary(method)(body, metadata=hq, timeout=10)
    except grpc.RpcError as e:
        assert e.code() in allowed, (method, body.hex(), e.code(), e.details())
assert check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING

print("interop ok: member %d through python3-grpcio %s" % (mid, grpc.__version__))
