#!/usr/bin/python3
"""gen_brand_check.py - the test of bench/gen-brand (ctest unit_gen_brand).

    gen_brand_check.py GEN_BRAND WORKDIR

Runs gen-brand with a small N twice with one seed and once with another: the first two must
be byte-identical, the third must differ. Then checks the files against the import contract
(docs: the comment of bench/gen_brand.c and its --help) with an independent reader: headers,
every store and member reference resolves, refunds follow their purchase and do not exceed
it, amounts have two decimals, points are floor(yuan), balances are plausible, and the model's
shape (25 % of online orders refunded, ~8 % of store orders, Zipf activity, 双11). Also the
usage errors. Exit 0 when all hold; the first failure is printed.
"""
import collections
import csv
import datetime
import filecmp
import os
import re
import shutil
import subprocess
import sys

MEMBERS = 3000
END = "2025-12-31"
PAST_BALANCES = 3
FILES = ("stores.csv", "members.csv", "balances.csv", "orders.csv")
HEADERS = {
    "stores.csv": ["store_code", "name", "channel", "region"],
    "members.csv": ["phone", "name", "birthday", "identities", "enrolled_store", "enrolled_at"],
    "balances.csv": ["member", "points", "expires_on"],
    "orders.csv": ["store", "order_id", "kind", "member", "amount", "occurred_at", "points"],
}
CHANNELS = {"pos", "tmall", "jd", "wechat_mini", "web", "other"}
ID_KINDS = {"tmall_nick", "jd_pin", "wechat_openid", "pos_card"}
PHONE = re.compile(r"^1[0-9]{10}$")
AMOUNT = re.compile(r"^([0-9]+)\.([0-9]{2})$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(gen, *args, expect=0):
    p = subprocess.run([gen, "--quiet", *args], capture_output=True, text=True)
    check(p.returncode == expect,
          f"gen-brand {' '.join(args)}: exit {p.returncode}, want {expect}\n{p.stderr}")
    return p


def generate(gen, out, seed):
    shutil.rmtree(out, ignore_errors=True)
    return run(gen, "--members", str(MEMBERS), "--seed", str(seed), "--end", END,
               "--past-balances", str(PAST_BALANCES), "--out", out)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    check(text.endswith("\n"), f"{path}: last line not terminated")
    rows = list(csv.reader(text.splitlines()))
    name = os.path.basename(path)
    check(rows and rows[0] == HEADERS[name], f"{name}: header {rows[:1]}, want {HEADERS[name]}")
    for r in rows[1:]:
        check(len(r) == len(rows[0]), f"{name}: {len(r)} fields in {r}")
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def date(s, what):
    try:
        return datetime.date.fromisoformat(s)
    except ValueError:
        raise Failure(f"{what}: bad date {s!r}")


def cents(s, what):
    m = AMOUNT.match(s)
    check(m is not None, f"{what}: amount {s!r} is not yuan with two decimals")
    return int(m.group(1)) * 100 + int(m.group(2))


def check_usage(gen, work):
    p = run(gen, "--help")
    for option in ("--members", "--seed", "--years", "--end", "--out", "--past-balances",
                   "--quiet", "stores.csv", "members.csv", "balances.csv", "orders.csv"):
        check(option in p.stdout, f"--help does not mention {option}")
    out = os.path.join(work, "bad")
    for args, message in ((["--members", "0", "--out", out], "--members"),
                          (["--end", "2023-02-30", "--out", out], "--end"),
                          (["--years", "11", "--out", out], "--years"),
                          (["--members", "10"], "--out"),
                          (["--bogus", "--out", out], "")):
        p = run(gen, *args, expect=2)
        check(message in p.stderr, f"gen-brand {args}: stderr {p.stderr!r} lacks {message}")


def check_contract(d):
    stores = read(os.path.join(d, "stores.csv"))
    codes = {s["store_code"]: s["channel"] for s in stores}
    check(len(codes) == len(stores) == 305, f"stores: {len(stores)} rows, {len(codes)} codes")
    check(all(s["channel"] in CHANNELS and s["name"] and s["region"] for s in stores),
          "stores: bad channel, name or region")
    check(sum(c == "pos" for c in codes.values()) == 300, "stores: not 300 POS stores")
    check(all(re.match(r"^[A-Z]{2}[0-9]{3}$", c) for c, ch in codes.items() if ch == "pos"),
          "stores: POS codes not like SH001")
    check(any("," in s["name"] for s in stores), "stores: no name needing quotes")

    members = read(os.path.join(d, "members.csv"))
    check(len(members) == MEMBERS, f"members: {len(members)} rows")
    owner = {}  # member reference -> member row number
    key = []    # the row key of each member
    for n, m in enumerate(members):
        refs = []
        if m["phone"]:
            check(PHONE.match(m["phone"]), f"members: phone {m['phone']!r}")
            refs.append(m["phone"])
        ids = m["identities"].split("|") if m["identities"] else []
        for ident in ids:
            kind, _, value = ident.partition(":")
            check(kind in ID_KINDS and value, f"members: identity {ident!r}")
            refs.append(ident)
        check(refs, f"members: row {n + 2} has neither phone nor identity")
        for r in refs:
            check(r not in owner, f"members: {r} twice")
            owner[r] = n
        key.append(refs[0])
        check(m["enrolled_store"] in codes, f"members: enrolled_store {m['enrolled_store']}")
        check(TIME.match(m["enrolled_at"]), f"members: enrolled_at {m['enrolled_at']!r}")
        if m["birthday"]:
            date(m["birthday"], "members: birthday")
        check(m["name"], f"members: row {n + 2} without a name")
    with_birthday = sum(bool(m["birthday"]) for m in members) / len(members)
    check(0.55 <= with_birthday <= 0.65, f"members: {with_birthday:.2%} with a birthday")
    phoneless = sum(not m["phone"] for m in members)
    check(0 < phoneless < len(members) * 0.02, f"members: {phoneless} without a phone")

    end = date(END, "END")
    start = end.replace(year=end.year - 3) + datetime.timedelta(days=1)
    orders = read(os.path.join(d, "orders.csv"))
    purchases = {}  # (store, order_id) -> (amount, occurred_at, member row)
    refunded = set()
    last_time = ""
    earned = collections.Counter()  # member row -> points of its purchases
    bought = collections.Counter()  # member row -> purchases
    per_day = collections.Counter() # (channel kind, date) -> purchases
    refunds_by = collections.Counter()
    for n, o in enumerate(orders):
        where = f"orders: line {n + 2}"
        check(o["store"] in codes, f"{where}: unknown store {o['store']}")
        check(o["member"] in owner, f"{where}: unknown member {o['member']}")
        check(TIME.match(o["occurred_at"]), f"{where}: occurred_at {o['occurred_at']!r}")
        check(o["occurred_at"] >= last_time, f"{where}: not in time order")
        last_time = o["occurred_at"]
        day = date(o["occurred_at"][:10], where)
        check(start <= day <= end, f"{where}: {day} outside {start}..{end}")
        amount = cents(o["amount"], where)
        check(amount > 0, f"{where}: amount 0")
        k = (o["store"], o["order_id"])
        online = codes[o["store"]] != "pos"
        if o["kind"] == "purchase":
            check(k not in purchases, f"{where}: purchase {k} twice")
            check(o["points"] == str(amount // 100), f"{where}: points {o['points']}")
            member = owner[o["member"]]
            purchases[k] = (amount, o["occurred_at"], member)
            earned[member] += amount // 100
            bought[member] += 1
            per_day[("online" if online else "pos", day)] += 1
        else:
            check(o["kind"] == "refund", f"{where}: kind {o['kind']!r}")
            check(k in purchases, f"{where}: refund of {k} before (or without) its purchase")
            check(k not in refunded, f"{where}: refund of {k} twice")
            p_amount, p_time, member = purchases[k]
            check(amount <= p_amount, f"{where}: refund {amount} > purchase {p_amount}")
            check(o["occurred_at"] >= p_time, f"{where}: refund before its purchase")
            check(owner[o["member"]] == member, f"{where}: refund names another member")
            check(o["points"] in ("", "0"), f"{where}: refund with points")
            refunded.add(k)
            refunds_by["online" if online else "pos"] += 1

    def share(kind):
        total = sum(1 for (s, _) in purchases if (codes[s] != "pos") == (kind == "online"))
        return refunds_by[kind] / total

    check(0.22 <= share("online") <= 0.28, f"orders: {share('online'):.1%} of online refunded")
    check(0.06 <= share("pos") <= 0.10, f"orders: {share('pos'):.1%} of store orders refunded")
    buyers = [c for c in bought.values()]
    check(sum(c <= 2 for c in buyers) > 0.6 * len(buyers), "orders: most should buy once or twice")
    check(max(buyers) >= 15, f"orders: nobody buys often (max {max(buyers)})")
    busiest = max((c, day) for (kind, day), c in per_day.items() if kind == "online")[1]
    check((busiest.month, busiest.day) == (11, 11), f"orders: busiest online day {busiest}")
    weekend = [c for (kind, day), c in per_day.items() if kind == "pos" and day.weekday() >= 5]
    weekday = [c for (kind, day), c in per_day.items() if kind == "pos" and day.weekday() < 5]
    check(sum(weekend) / len(weekend) > 1.3 * sum(weekday) / len(weekday),
          "orders: stores not busier at weekends")

    balances = read(os.path.join(d, "balances.csv"))
    seen = set()
    held = collections.Counter()
    past = 0
    for n, b in enumerate(balances):
        where = f"balances: line {n + 2}"
        check(b["member"] in owner, f"{where}: unknown member {b['member']}")
        member = owner[b["member"]]
        check(b["member"] == key[member], f"{where}: {b['member']} is not the member's key")
        check(re.match(r"^[1-9][0-9]*$", b["points"]), f"{where}: points {b['points']!r}")
        expires = date(b["expires_on"], where)
        check((expires.month, expires.day) == (12, 31), f"{where}: expires_on {expires}")
        check(expires.year <= end.year + 1, f"{where}: expires_on {expires} too late")
        check((b["member"], expires) not in seen, f"{where}: ({b['member']}, {expires}) twice")
        seen.add((b["member"], expires))
        if expires < end:
            past += 1
        else:
            held[member] += int(b["points"])
    check(past == PAST_BALANCES, f"balances: {past} rows already past, want {PAST_BALANCES}")
    for member, points in held.items():
        check(points <= earned[member], f"balances: {key[member]} holds {points} of {earned[member]}")
    check(len(held) > 0.4 * len(buyers), f"balances: only {len(held)} members hold points")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_brand_check.py GEN_BRAND WORKDIR")
    gen, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    try:
        check_usage(gen, work)
        a, b, c = (os.path.join(work, x) for x in ("a", "b", "c"))
        summary = generate(gen, a, 7).stdout
        check("orders.csv" in summary and "refunded" in summary, f"summary: {summary!r}")
        generate(gen, b, 7)
        generate(gen, c, 8)
        for f in FILES:
            check(filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False),
                  f"{f}: differs between two runs with seed 7")
        for f in FILES[1:]:
            check(not filecmp.cmp(os.path.join(a, f), os.path.join(c, f), shallow=False),
                  f"{f}: the same for seeds 7 and 8")
        check_contract(a)
        check_contract(c)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    print("ok: gen-brand is deterministic and its files keep the contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
