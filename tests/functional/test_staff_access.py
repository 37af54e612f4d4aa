"""Issue 14: staff with roles and shop scope, enforced on the server for every merchant route; the
audit log (SPEC §6a).

The access matrix enumerates the merchant routes from their declarations (``http.routing.ROUTES``),
so a route added later without a way to call it here fails this test until someone decides what each
kind of person gets from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.periods import Period
from chalicelib.http.routing import ROUTES, RouteSpec
from tests.support import drive
from tests.support.api import Api, changed_password
from tests.support.stack import Stack

TODAY_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)


def _clock(stack: Stack) -> FixedClock:
    clock = stack.container.clock
    assert isinstance(clock, FixedClock)
    return clock


class Business:
    """A merchant with its owner login and a way to add staff through the API."""

    def __init__(self, stack: Stack, api: Api, name_ja: str) -> None:
        reg = drive.register(stack.container, name_ja=name_ja)
        self.id = reg.merchant.merchant_id
        self.api = api
        self.stack = stack
        self.owner = api.login(reg.merchant.login_id, reg.initial_password)
        self.second = drive.add_store(stack.container, self.id, name_ja=name_ja + " 二号店")  # a real second shop

    def add(self, role: str, store_ids: list[str] | None = None, name: str = "山田 花子") -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "role": role}
        if store_ids is not None:
            body["store_ids"] = store_ids
        reply = self.api.post("/v1/merchant/staff", body, token=self.owner)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def sign_in(self, member: dict[str, Any]) -> str:
        return self.api.login(member["login_id"], member["initial_password"])

    def sell(self, amount: int, consumer: str = "C-1", store: str | None = None) -> str:
        return str(drive.pay(self.stack.container, consumer, store or self.id, amount)["payment_id"])


def snapshot(stack: Stack) -> list[dict[str, Any]]:
    """Every item, but the sliding part of a session (a refused call may still prove the session alive)."""
    items = []
    for item in stack.all_items():
        if str(item["sk"]).startswith("SESSION#"):
            item = {k: v for k, v in item.items() if k not in ("refreshed_at", "expires_at", "ttl")}
        items.append(item)
    return sorted(items, key=lambda i: (i["pk"], i["sk"]))


# -- the access matrix ----------------------------------------------------------------------------
ACTORS = ("owner", "manager", "clerk", "outside", "disabled", "other")
# Routes whose answer is the whole merchant's money (payouts), or that name one record of a shop (a
# payment of the default shop here): a member whose scope misses a shop gets 403 (the second shop is the
# outside member's only one). History, export, daily sales, live and the shop list filter to its shops.
NEEDS_SCOPE = {"merchant_payouts", "merchant_payout_detail", "merchant_payment", "merchant_cancel"}
# Routes that name a record of merchant A by id: merchant B's owner gets 404 from them.
NAMES_A_RECORD = {"merchant_payment", "merchant_cancel", "merchant_payout_detail", "disable_staff", "enable_staff",
                  "reset_staff_password"}
# Session routes: ending or renewing the caller's session is tested in test_accounts; both admit every
# staff role (checked below from their declarations).
SESSION_ROUTES = {"logout", "change_password"}


def merchant_routes() -> list[RouteSpec]:
    return [r for r in ROUTES if "merchant" in r.roles]


def expected(route: RouteSpec, actor: str, role: str) -> int:
    if actor == "disabled":
        return 401
    if actor == "other":
        return 404 if route.name in NAMES_A_RECORD else route.status
    if role not in route.staff_roles:
        return 403
    if actor == "outside" and route.name in NEEDS_SCOPE:
        return 403
    return route.status


def test_every_merchant_route_declares_its_staff_roles() -> None:
    routes = merchant_routes()
    assert len(routes) >= 15
    for route in routes:
        assert route.staff_roles, route.path
        assert set(route.staff_roles) <= {"owner", "manager", "clerk"}
        assert "owner" in route.staff_roles  # the owner can do everything
    assert {r.name for r in routes if r.name in SESSION_ROUTES} == SESSION_ROUTES
    assert all(set(r.staff_roles) == {"owner", "manager", "clerk"} for r in routes if r.name in SESSION_ROUTES)


def test_access_matrix(api: Api, stack: Stack) -> None:
    c = stack.container
    clock = _clock(stack)
    drive.grant(c, "C-1", 100_000, "2027-12-31")
    a = Business(stack, api, "女川商店")
    b = Business(stack, api, "隣の店")
    # a closed period with a payout for A, and today's sales
    clock.set(dt.datetime(2026, 10, 5, 10, 0, tzinfo=JST))
    a.sell(100)
    clock.set(TODAY_NOON)
    c.closing.start = Period.parse("2026-10-1")  # settlement starts there: one period to close
    c.closing.close("2026-10-1")
    members = {"manager": a.add("manager"), "clerk": a.add("clerk"),
               "outside": a.add("manager", store_ids=[a.second]), "disabled": a.add("manager")}
    tokens = {name: a.sign_in(m) for name, m in members.items()}
    tokens["owner"], tokens["other"] = a.owner, b.owner
    roles = {"owner": "owner", "other": "owner", **{n: m["role"] for n, m in members.items()}}
    assert api.post(f"/v1/merchant/staff/{members['disabled']['staff_id']}/disable", token=a.owner).status == 200

    def spare(role: str = "clerk") -> dict[str, Any]:
        return dict(a.add(role, name="予備"))

    def disabled_spare() -> dict[str, Any]:
        m = spare()
        assert api.post(f"/v1/merchant/staff/{m['staff_id']}/disable", token=a.owner).status == 200
        return m

    calls: dict[str, Callable[[], tuple[str, str, Any]]] = {
        "merchant_me": lambda: ("GET", "/v1/merchant/me", None),
        "merchant_transactions": lambda: ("GET", "/v1/merchant/transactions", None),
        "merchant_live": lambda: ("GET", "/v1/merchant/live", None),
        "merchant_payment": lambda: ("GET", f"/v1/merchant/payments/{a.sell(10)}", None),
        "merchant_cancel": lambda: ("POST", f"/v1/merchant/payments/{(p := a.sell(10))}/cancel",
                                    {"confirm_payment_id": p}),
        "merchant_export": lambda: ("POST", "/v1/merchant/exports", {}),
        "merchant_daily_sales": lambda: ("GET", "/v1/merchant/sales/daily", None),
        "merchant_contact": lambda: ("GET", "/v1/merchant/contact", None),
        "merchant_stores": lambda: ("GET", "/v1/merchant/stores", None),
        "merchant_payouts": lambda: ("GET", "/v1/merchant/payouts", None),
        "merchant_payout_detail": lambda: ("GET", "/v1/merchant/payouts/2026-10-1/detail", None),
        "add_staff": lambda: ("POST", "/v1/merchant/staff", {"name": "新人", "role": "clerk"}),
        "list_staff": lambda: ("GET", "/v1/merchant/staff", None),
        "disable_staff": lambda: ("POST", f"/v1/merchant/staff/{spare()['staff_id']}/disable", None),
        "enable_staff": lambda: ("POST", f"/v1/merchant/staff/{disabled_spare()['staff_id']}/enable", None),
        "reset_staff_password": lambda: ("POST", f"/v1/merchant/staff/{spare()['staff_id']}/reset-password", None),
        "merchant_audit": lambda: ("GET", "/v1/merchant/audit", None),
        "merchant_audit_export": lambda: ("POST", "/v1/merchant/audit/exports", None),
    }
    routes = [r for r in merchant_routes() if r.name not in SESSION_ROUTES]
    missing = {r.name for r in routes} - set(calls)
    assert not missing, f"add these routes to the access matrix: {sorted(missing)}"

    answers: dict[tuple[str, str], int] = {}
    for route in routes:
        for actor in ACTORS:
            method, path, body = calls[route.name]()
            want = expected(route, actor, roles[actor])
            before = snapshot(stack) if want >= 400 else None
            reply = api.call(method, path, body, token=tokens[actor])
            answers[(route.name, actor)] = reply.status
            assert reply.status == want, (route.name, actor, reply.body)
            if want >= 400:
                code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[want]
                assert reply.error_code == code, (route.name, actor, reply.body)
                assert snapshot(stack) == before, f"{route.name} as {actor} wrote something"
    # spot checks of the SPEC's words, from the table
    assert answers[("merchant_cancel", "clerk")] == answers[("merchant_export", "clerk")] == 403
    assert answers[("merchant_payouts", "clerk")] == 403
    assert answers[("merchant_cancel", "manager")] == 200 and answers[("merchant_export", "manager")] == 201
    assert answers[("add_staff", "manager")] == answers[("merchant_audit", "manager")] == 403
    assert answers[("merchant_live", "clerk")] == answers[("merchant_transactions", "clerk")] == 200
    assert answers[("merchant_stores", "clerk")] == answers[("merchant_stores", "outside")] == 200


def test_a_shop_filter_outside_the_scope_is_403_and_another_merchants_shop_404(api: Api, stack: Stack) -> None:
    c = stack.container
    clock = _clock(stack)
    clock.set(TODAY_NOON)
    drive.grant(c, "C-1", 100_000, "2027-12-31")
    a = Business(stack, api, "女川商店")
    b = Business(stack, api, "隣の店")
    at_default, at_second = a.sell(100), a.sell(200, store=a.second)
    outside = a.sign_in(a.add("manager", store_ids=[a.second]))
    for path in ("/v1/merchant/transactions", "/v1/merchant/live", "/v1/merchant/sales/daily"):
        mine = api.get(f"{path}?store_id={a.second}", token=outside)
        assert mine.status == 200, path
        refused = api.get(f"{path}?store_id={a.id}", token=outside)
        assert (refused.status, refused.error_code) == (403, "forbidden"), path
        for foreign in (b.id, b.second, "M-NOT-MINE"):
            gone = api.get(f"{path}?store_id={foreign}", token=a.owner)
            assert (gone.status, gone.error_code) == (404, "not_found"), (path, foreign)
    before = snapshot(stack)
    assert api.post("/v1/merchant/exports", {"store_id": a.id}, token=outside).status == 403
    assert api.post(f"/v1/merchant/exports?store_id={b.second}", {}, token=a.owner).status == 404
    assert snapshot(stack) == before
    # no shop named: a member with a partial scope sees its shops only, the owner every shop
    rows = api.get("/v1/merchant/transactions", token=outside).body
    assert [r["payment_id"] for r in rows["items"]] == [at_second]
    assert (rows["completed_count"], rows["completed_points"]) == (1, 200)
    assert rows["items"][0]["store_id"] == a.second and rows["items"][0]["store_name"] == "女川商店 二号店"
    days = api.get("/v1/merchant/sales/daily", token=outside).body["days"]
    assert sum(d["completed_points"] for d in days) == 200
    everything = api.get("/v1/merchant/transactions", token=a.owner).body
    assert {r["payment_id"] for r in everything["items"]} == {at_default, at_second}
    assert everything["completed_points"] == 300
    only_default = api.get(f"/v1/merchant/transactions?store_id={a.id}", token=a.owner).body
    assert [r["payment_id"] for r in only_default["items"]] == [at_default] and only_default["completed_points"] == 100
    assert [s["store_id"] for s in api.get("/v1/merchant/stores", token=outside).body["items"]] == [a.second]
    assert [s["store_id"] for s in api.get("/v1/merchant/stores", token=a.owner).body["items"]] == [a.id, a.second]
    # payouts stay the whole merchant's money: a partial scope cannot see them
    assert api.get("/v1/merchant/payouts", token=outside).status == 403


def test_a_clerk_sees_only_today_and_its_shops(api: Api, stack: Stack) -> None:
    c = stack.container
    clock = _clock(stack)
    drive.grant(c, "C-1", 100_000, "2027-12-31")
    a = Business(stack, api, "女川商店")
    clock.set(TODAY_NOON - dt.timedelta(days=1))
    yesterday = a.sell(30)
    clock.set(TODAY_NOON)
    today = a.sell(40)
    clerk = a.sign_in(a.add("clerk"))
    rows = api.get("/v1/merchant/transactions", token=clerk).body
    assert [r["payment_id"] for r in rows["items"]] == [today]
    for query in ("from=2026-11-19T00:00&to=2026-11-20T23:59", "from=2026-11-19&to=2026-11-19",
                  "from=2026-11-20T00:00&to=2026-11-21T00:00"):
        refused = api.get(f"/v1/merchant/transactions?{query}", token=clerk)
        assert (refused.status, refused.error_code) == (403, "forbidden"), query
        assert "今日" in refused.body["error"]["message"]
    assert api.get(f"/v1/merchant/payments/{today}", token=clerk).status == 200
    assert api.get(f"/v1/merchant/payments/{yesterday}", token=clerk).status == 403
    # a clerk of the second shop only: its register view (live feed and today's history) holds none of
    # the default shop's payments, only its own shop's
    other_shop = a.sign_in(a.add("clerk", store_ids=[a.second]))
    live = api.get("/v1/merchant/live", token=other_shop).body
    assert live["items"] == []
    assert api.get("/v1/merchant/transactions", token=other_shop).body["items"] == []
    assert api.get(f"/v1/merchant/live?store_id={a.id}", token=other_shop).status == 403
    assert api.get("/v1/merchant/live?store_id=M-NOT-MINE", token=other_shop).status == 404
    assert api.get(f"/v1/merchant/payments/{today}", token=other_shop).status == 403
    there = a.sell(60, store=a.second)
    polled = api.get("/v1/merchant/live?after=" + live["cursor"], token=other_shop).body
    assert [(i["payment_id"], i["store_id"]) for i in polled["items"]] == [(there, a.second)]
    assert [r["payment_id"] for r in api.get("/v1/merchant/transactions", token=other_shop).body["items"]] == [there]
    assert {i["payment_id"] for i in api.get("/v1/merchant/live", token=clerk).body["items"]} == {today, there}


# -- staff lifecycle ------------------------------------------------------------------------------
def test_an_owner_adds_a_member_who_must_change_the_initial_password(api: Api, stack: Stack) -> None:
    a = Business(stack, api, "女川商店")
    member = a.add("manager")
    assert member["role"] == "manager" and member["store_ids"] is None and member["login_id"].startswith("ogw")
    assert member["status"] == "active" and member["must_change_password"] is True
    login = api.post("/v1/auth/login", {"login_id": member["login_id"], "password": member["initial_password"]})
    assert login.status == 200 and login.body["staff_role"] == "manager" and login.body["must_change_password"]
    pending = api.get("/v1/merchant/me", token=login.body["token"])
    assert (pending.status, pending.error_code) == (403, "password_change_required")
    token = a.sign_in(member)
    me = api.get("/v1/merchant/me", token=token).body
    assert me["staff_role"] == "manager" and me["staff_id"] == member["staff_id"] and me["merchant_id"] == a.id
    owner_login = api.post("/v1/auth/login", {"login_id": api.get("/v1/merchant/me", token=a.owner).body["login_id"],
                                              "password": "wrong-password"})
    assert owner_login.status == 401
    listed = api.get("/v1/merchant/staff", token=a.owner).body["items"]
    assert [m["role"] for m in listed] == ["owner", "manager"]
    assert listed[0]["staff_id"] == "owner" and listed[0]["is_me"] is True
    assert "initial_password" not in listed[1]


def test_bad_staff_input_writes_nothing(api: Api, stack: Stack) -> None:
    a = Business(stack, api, "女川商店")
    before = snapshot(stack)
    for body in ({"name": "x", "role": "admin"}, {"name": "", "role": "clerk"}, {"name": "x"},
                 {"name": "x", "role": "clerk", "store_ids": []}, {"name": "x", "role": "clerk", "store_ids": ["M0"]},
                 {"name": "x", "role": "clerk", "extra": 1}, {"name": "   ", "role": "clerk"}):
        reply = api.post("/v1/merchant/staff", body, token=a.owner)
        assert (reply.status, reply.error_code) == (400, "invalid_request"), body
    assert api.post("/v1/merchant/staff/S-NOPE/disable", token=a.owner).status == 404
    assert snapshot(stack) == before


def test_a_disabled_members_session_ends_at_once_and_login_is_refused(api: Api, stack: Stack) -> None:
    a = Business(stack, api, "女川商店")
    member = a.add("clerk")
    token = a.sign_in(member)
    assert api.get("/v1/merchant/live", token=token).status == 200
    disabled = api.post(f"/v1/merchant/staff/{member['staff_id']}/disable", token=a.owner)
    assert disabled.status == 200 and disabled.body["status"] == "disabled"
    gone = api.get("/v1/merchant/live", token=token)
    assert (gone.status, gone.error_code) == (401, "unauthenticated")
    password = changed_password(member["initial_password"])
    refused = api.post("/v1/auth/login", {"login_id": member["login_id"], "password": password})
    assert (refused.status, refused.error_code) == (401, "unauthenticated")
    assert "無効" in refused.body["error"]["message"]
    assert api.post(f"/v1/merchant/staff/{member['staff_id']}/enable", token=a.owner).status == 200
    assert api.get("/v1/merchant/live", token=token).status == 401  # the old session stays ended
    assert api.post("/v1/auth/login", {"login_id": member["login_id"], "password": password}).status == 200


def test_a_reset_ends_sessions_and_forces_a_new_password(api: Api, stack: Stack) -> None:
    a = Business(stack, api, "女川商店")
    member = a.add("manager")
    token = a.sign_in(member)
    reset = api.post(f"/v1/merchant/staff/{member['staff_id']}/reset-password", token=a.owner)
    assert reset.status == 200 and reset.body["must_change_password"] is True
    assert api.get("/v1/merchant/me", token=token).status == 401
    login = api.post("/v1/auth/login", {"login_id": member["login_id"], "password": reset.body["initial_password"]})
    assert login.status == 200 and login.body["must_change_password"] is True


def test_the_last_active_owner_cannot_be_disabled(api: Api, stack: Stack) -> None:
    a = Business(stack, api, "女川商店")
    refused = api.post("/v1/merchant/staff/owner/disable", token=a.owner)
    assert (refused.status, refused.error_code) == (409, "conflict")
    second = a.add("owner", name="二代目")
    second_token = a.sign_in(second)
    assert api.post("/v1/merchant/staff/owner/disable", token=second_token).status == 200
    assert api.get("/v1/merchant/me", token=a.owner).status == 401
    alone = api.post(f"/v1/merchant/staff/{second['staff_id']}/disable", token=second_token)
    assert (alone.status, alone.error_code) == (409, "conflict")


def test_operator_revocation_covers_the_staff_and_restore_keeps_the_owners_disable(api: Api, stack: Stack,
                                                                                    operator_token: str) -> None:
    a = Business(stack, api, "女川商店")
    clerk, off = a.add("clerk"), a.add("clerk", name="休職中")
    clerk_token = a.sign_in(clerk)
    a.sign_in(off)
    assert api.post(f"/v1/merchant/staff/{off['staff_id']}/disable", token=a.owner).status == 200
    assert api.post(f"/v1/admin/merchants/{a.id}/revoke-access", token=operator_token).status == 200
    assert api.get("/v1/merchant/live", token=clerk_token).status == 401
    assert api.get("/v1/merchant/me", token=a.owner).status == 401
    assert api.post(f"/v1/admin/merchants/{a.id}/restore-access", token=operator_token).status == 200
    for member, ok in ((clerk, 200), (off, 401)):
        login = api.post("/v1/auth/login", {"login_id": member["login_id"],
                                            "password": changed_password(member["initial_password"])})
        assert login.status == ok


# -- the audit log --------------------------------------------------------------------------------
def test_the_audit_log_records_each_action_for_its_readers(api: Api, stack: Stack, operator_token: str) -> None:
    c = stack.container
    drive.grant(c, "C-1", 100_000, "2027-12-31")
    a = Business(stack, api, "女川商店")
    b = Business(stack, api, "隣の店")
    owner_login = api.get("/v1/merchant/me", token=a.owner).body["login_id"]
    api.post("/v1/auth/login", {"login_id": owner_login, "password": "not-the-password"})
    api.post("/v1/auth/login", {"login_id": "ogw-nobody", "password": "whatever-it-is"})
    member = a.add("manager")
    token = a.sign_in(member)  # login + password change
    pid = a.sell(50)
    assert api.post(f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}, token=token).status == 200
    assert api.post("/v1/merchant/exports", {}, token=token).status == 201
    assert api.post(f"/v1/merchant/staff/{member['staff_id']}/reset-password", token=a.owner).status == 200
    assert api.post(f"/v1/merchant/staff/{member['staff_id']}/disable", token=a.owner).status == 200
    assert api.post(f"/v1/admin/merchants/{a.id}/suspend", token=operator_token).status == 200
    assert api.post("/v1/admin/grants", {"consumer_id": "C-9", "points": 5, "expires_on": "2027-12-31"},
                    token=operator_token).status == 201

    log = api.get("/v1/merchant/audit?limit=200", token=a.owner).body
    actions = [i["action"] for i in log["items"]]
    for action in ("login", "login_failed", "staff_add", "password_change", "payment_cancel", "export",
                   "password_reset", "staff_disable"):
        assert action in actions, action
    assert all(i["merchant_id"] == a.id for i in log["items"])
    assert "ogw-nobody" not in str(log)  # an unknown ID belongs to no merchant
    cancel = next(i for i in log["items"] if i["action"] == "payment_cancel")
    assert cancel["actor"] == member["login_id"] and cancel["target"] == pid and cancel["ip"]
    assert cancel["at"].endswith("+09:00") and cancel["action_label"] == "取消"
    times = [i["at"] for i in log["items"]]
    assert times == sorted(times, reverse=True)
    assert b.id not in {i["merchant_id"] for i in log["items"]}
    everyone = api.get("/v1/admin/audit?limit=200", token=operator_token).body["items"]
    seen = {(i["action"], i["target"]) for i in everyone}
    assert ("login_failed", "ogw-nobody") in seen and ("merchant_suspend", a.id) in seen
    assert ("grant", "C-9") in seen
    assert {i["merchant_id"] for i in everyone} >= {a.id, b.id, None}
    # paging: newest first, no entry twice, none lost
    paged: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"/v1/merchant/audit?limit=3&cursor={cursor}", token=a.owner).body
        paged += [i["at"] + i["action"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert paged == [i["at"] + i["action"] for i in log["items"]]
    assert api.get("/v1/merchant/audit", token=b.owner).body["items"][0]["merchant_id"] == b.id


def test_the_audit_csv_is_a_presigned_file(api: Api, stack: Stack, operator_token: str) -> None:
    import urllib.request

    a = Business(stack, api, "女川商店")
    a.add("clerk", name="=HYPERLINK(\"http://x\")")
    link = api.post("/v1/merchant/audit/exports", token=a.owner)
    assert link.status == 201 and link.body["rows"] >= 2 and link.body["url"].startswith("http")
    with urllib.request.urlopen(link.body["url"]) as resp:
        data = resp.read()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("日時,操作者,役割,操作")
    assert "'=HYPERLINK" in text and "スタッフ追加" in text
    everyone = api.post("/v1/admin/audit/exports", token=operator_token)
    assert everyone.status == 201 and everyone.body["rows"] >= link.body["rows"]


def test_no_route_alters_the_audit_log(api: Api, stack: Stack) -> None:
    audit_routes = [r for r in ROUTES if "/audit" in r.path]
    assert {(r.method, r.path) for r in audit_routes} == {
        ("GET", "/v1/merchant/audit"), ("POST", "/v1/merchant/audit/exports"),
        ("GET", "/v1/admin/audit"), ("POST", "/v1/admin/audit/exports")}
    a = Business(stack, api, "女川商店")
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        reply = api.call(method, "/v1/merchant/audit", token=a.owner)
        assert reply.status in (403, 404, 405), method
    repo = stack.container.audit_repo
    assert not [name for name in dir(repo) if name.startswith(("update", "delete", "remove", "replace", "set"))]
