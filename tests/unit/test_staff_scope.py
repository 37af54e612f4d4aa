"""Staff roles, shop scope, staff changes and the audit log's reads, on in-memory fakes (SPEC §6a)."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.model import Account
from chalicelib.accounts.scope import (
    ALL,
    OWNER_MANAGER,
    OWNER_ONLY,
    allowed_stores,
    check_store_ids,
    covers_every_store,
    require_staff_role,
    require_store,
    require_today,
    require_today_moment,
)
from chalicelib.accounts.service import new_account
from chalicelib.accounts.staff import StaffService
from chalicelib.audit.fake import FakeAuditRepository
from chalicelib.audit.model import AuditEntry, months_back, previous_month
from chalicelib.audit.service import AuditService, csv_cells
from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from chalicelib.store.files import MemoryFiles

SHOPS = frozenset({"M1", "M1-2", "M1-3"})


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


# -- roles ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "admitted", "ok"), [
    ("owner", OWNER_ONLY, True), ("manager", OWNER_ONLY, False), ("clerk", OWNER_ONLY, False),
    ("owner", OWNER_MANAGER, True), ("manager", OWNER_MANAGER, True), ("clerk", OWNER_MANAGER, False),
    ("clerk", ALL, True), (None, ALL, False), ("admin", ALL, False),
])
def test_a_route_admits_only_its_staff_roles(role: str | None, admitted: tuple[str, ...], ok: bool) -> None:
    if ok:
        require_staff_role(role, admitted)
    else:
        with pytest.raises(Forbidden):
            require_staff_role(role, admitted)


# -- scope ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("scope", "requested", "answer"), [
    (None, "", None),                                   # everyone, no shop named: no filter
    (None, "M1-2", frozenset({"M1-2"})),
    (("M1", "M1-2"), "", frozenset({"M1", "M1-2"})),    # a scoped member, no shop named: its scope
    (("M1", "M1-2"), "M1-2", frozenset({"M1-2"})),
    (("M1", "M1-2", "M1-3"), "", None),                 # a scope that covers every shop: no filter
    (("M1", "M1-9"), "", frozenset({"M1"})),            # a shop that is no longer the merchant's drops out
])
def test_the_allowed_shops(scope: tuple[str, ...] | None, requested: str, answer: frozenset[str] | None) -> None:
    assert allowed_stores(scope, requested, SHOPS) == answer


@pytest.mark.parametrize(("scope", "requested", "error"), [
    (None, "M2", NotFound),           # another merchant's shop: 404, whoever asks
    (("M1",), "M2", NotFound),
    (("M1",), "M1-2", Forbidden),     # this merchant's shop outside the scope: 403
    (("M1-9",), "", Forbidden),       # nothing left in the scope
])
def test_refused_shops(scope: tuple[str, ...] | None, requested: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        allowed_stores(scope, requested, SHOPS)


def test_a_record_of_a_shop_outside_the_scope_is_forbidden() -> None:
    require_store(None, "M1-3")
    require_store(("M1-3",), "M1-3")
    with pytest.raises(Forbidden):
        require_store(("M1",), "M1-3")
    assert covers_every_store(None, SHOPS) and covers_every_store(("M1", "M1-2", "M1-3"), SHOPS)
    assert not covers_every_store(("M1",), SHOPS)


def test_new_scopes_are_checked_against_the_merchants_shops() -> None:
    assert check_store_ids(None, SHOPS) is None
    assert check_store_ids(["M1-2", "M1", "M1-2"], SHOPS) == ("M1", "M1-2")
    for bad in (["M2"], [], ["M1", "X"]):
        with pytest.raises(ValueError):
            check_store_ids(bad, SHOPS)


# -- a clerk's day (JST) ----------------------------------------------------------------------------
NOW = at("2026-11-20T00:30")


@pytest.mark.parametrize(("start", "end", "ok"), [
    ("2026-11-20T00:00", "2026-11-21T00:00", True),      # the whole day, half-open
    ("2026-11-20T09:00", "2026-11-20T09:01", True),
    ("2026-11-19T23:59", "2026-11-20T00:01", False),     # starts yesterday
    ("2026-11-20T00:00", "2026-11-21T00:00:00.001", False),  # a millisecond of tomorrow
    ("2026-11-19T00:00", "2026-11-20T00:00", False),     # yesterday
])
def test_a_clerk_sees_today_only(start: str, end: str, ok: bool) -> None:
    s, e = at(start), at(end)
    require_today("owner", s - dt.timedelta(days=30), e, NOW)
    require_today("manager", s - dt.timedelta(days=30), e, NOW)
    if ok:
        require_today("clerk", s, e, NOW)
    else:
        with pytest.raises(Forbidden):
            require_today("clerk", s, e, NOW)


def test_a_clerk_opens_todays_payments_only() -> None:
    require_today_moment("clerk", at("2026-11-20T00:00"), NOW)
    require_today_moment("manager", at("2026-11-19T23:59:59.999"), NOW)
    with pytest.raises(Forbidden):
        require_today_moment("clerk", at("2026-11-19T23:59:59.999"), NOW)


# -- staff changes --------------------------------------------------------------------------------
class Staff:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.repo = FakeAccountRepository()
        self.service = StaffService(self.repo, self.clock)
        self.repo.add(new_account(login_id="boss", role="merchant", password="p" * 10, merchant_id="M1", now=NOW))

    def add(self, role: str = "clerk", stores: list[str] | None = None, merchant: str = "M1") -> Account:
        return self.service.add(merchant_id=merchant, name=" 山田  花子 ", role=role, store_ids=stores,
                                merchant_stores=frozenset({merchant, merchant + "-2"})).account


def test_a_new_member_has_its_own_login_and_must_change_the_password() -> None:
    s = Staff()
    member = s.add("manager", ["M1-2"])
    assert member.login_id.startswith("ogw") and member.staff_id and member.staff_id.startswith("S")
    assert member.must_change_password and member.store_ids == ("M1-2",) and member.name == "山田 花子"
    assert [a.effective_staff_role for a in s.service.members("M1", "boss")] == ["owner", "manager"]
    assert s.service.member("M1", "boss", "owner").login_id == "boss"
    with pytest.raises(NotFound):
        s.service.member("M2", "boss", member.staff_id)
    with pytest.raises(InvalidRequest):
        s.add("admin")
    with pytest.raises(InvalidRequest):
        s.add("clerk", ["M2"])
    with pytest.raises(InvalidRequest):
        s.add("owner", ["M1"])  # an owner has every shop


def test_disabling_ends_sessions_and_keeps_an_active_owner() -> None:
    s = Staff()
    clerk = s.add()
    assert clerk.staff_id
    s.repo.sessions[("x", "1")] = None  # type: ignore[assignment]  # another account's: untouched
    disabled = s.service.set_disabled("M1", "boss", clerk.staff_id, True)
    assert disabled.disabled and not disabled.can_sign_in
    with pytest.raises(Conflict):
        s.service.set_disabled("M1", "boss", "owner", True)  # the only owner
    second = s.add("owner")
    assert second.staff_id
    s.service.set_disabled("M1", "boss", "owner", True)
    with pytest.raises(Conflict):
        s.service.set_disabled("M1", "boss", second.staff_id, True)
    assert ("x", "1") in s.repo.sessions


def test_a_reset_forces_a_change_and_lifts_a_lock() -> None:
    s = Staff()
    clerk = s.add()
    assert clerk.staff_id
    s.repo.record_failure(clerk.login_id, NOW, dt.timedelta(minutes=15), 5)
    account, password = s.service.reset_password("M1", "boss", clerk.staff_id)
    assert account.must_change_password and len(password) >= 10
    assert s.repo.attempts(clerk.login_id).failures == 0


# -- the audit log ----------------------------------------------------------------------------------
def test_months_walk_back_across_years() -> None:
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-11") == "2026-10"
    assert months_back("2026-11", 26) == "2024-09"


def test_reads_walk_back_month_by_month_to_the_floor() -> None:
    clock = FixedClock(at("2026-11-20T09:00"))
    repo = FakeAuditRepository()
    audit = AuditService(repo, clock, MemoryFiles())
    for days in (0, 1, 40, 41, 90, 400):
        clock.set(at("2026-11-20T09:00") - dt.timedelta(days=days))
        audit.record("ogwx", "login", "ogwx", "192.0.2.1", merchant_id="M1")
    clock.set(at("2026-11-20T09:01"))
    audit.record("ops", "merchant_suspend", "M1", "192.0.2.2", actor_role="operator")
    floor = audit.floor(at("2026-08-01T00:00"))
    pages, cursor = [], None
    while True:
        items, cursor = audit.page("M1", limit=2, cursor=cursor, floor=floor)
        pages.append(len(items))
        if cursor is None:
            break
    assert sum(pages) == 5  # the entry of 400 days ago is older than the merchant: not walked to
    everyone = list(audit.iter_all(None, audit.floor()))
    assert len(everyone) == 7 and everyone[0].action == "merchant_suspend"
    assert [e.at for e in everyone] == sorted((e.at for e in everyone), reverse=True)


def test_an_audit_write_that_fails_does_not_fail_the_action() -> None:
    class Broken(FakeAuditRepository):
        def add(self, entry: AuditEntry) -> None:
            raise RuntimeError("throttled")

    entry = AuditService(Broken(), FixedClock(NOW)).record("ogwx", "payment_cancel", "PAY1", "192.0.2.1")
    assert entry.action == "payment_cancel"


def test_audit_csv_cells_are_neutralised() -> None:
    entry = AuditEntry(audit_id="A1", at=NOW, actor="=cmd", action="staff_add", target="+1", ip="192.0.2.1",
                       actor_role="owner", merchant_id="M1", detail="@x")
    cells = csv_cells(entry)
    assert cells[0] == "2026/11/20 00:30:00" and cells[1] == "'=cmd" and cells[2] == "オーナー"
    assert cells[3] == "スタッフ追加" and cells[5] == "'+1" and cells[8] == "'@x"
    audit = AuditService(FakeAuditRepository(), FixedClock(NOW), MemoryFiles())
    audit.record("=cmd", "staff_add", "+1", "192.0.2.1", merchant_id="M1")
    link = audit.export("M1", audit.floor())
    assert link.rows == 1 and link.filename == "操作履歴_20261120.csv"
    assert link.expires_at == NOW + dt.timedelta(seconds=900)
