"""The same contract, run against the in-memory fakes and the DynamoDB repositories on the local engine.

If a fake drifts from what the table does (a condition it forgets, an order it gets wrong), the
unit tests that trust it would lie: these tests fail first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from chalicelib import bootstrap
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.accounts.service import new_account
from chalicelib.core.clock import JST, UTC
from chalicelib.core.errors import NotFound, WriteRejected
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.model import ACTIVE, SUSPENDED, Merchant, Store
from chalicelib.merchants.repository import MerchantIdTaken, StoreIdTaken
from chalicelib.payments.model import COMPLETED, Grant, IdempotencyRecord, Payment
from chalicelib.payments.wallet import Lot, Share, Wallet
from chalicelib.settlement.model import Payout
from devstack.engine import LocalEngine
from tests.support.stack import build_stack

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
EXP = dt.datetime(2027, 3, 31, 14, 59, 59, 999000, tzinfo=UTC)
BANK = BankAccount("0001", "001", 1, "1234567", "ｵﾅｶﾞﾜ")


@dataclasses.dataclass
class Repos:
    kind: str
    c: bootstrap.Container


@pytest.fixture(params=["fake", "dynamo"])
def repos(request: pytest.FixtureRequest, engine: LocalEngine, keys_dir: Path) -> Iterator[Repos]:
    stack = build_stack(engine, keys_dir)
    container = stack.container
    if request.param == "fake":
        container = bootstrap.fake_container(stack.settings, container.clock)
    yield Repos(request.param, container)
    bootstrap.override(None)


def merchant(mid: str = "M1", status: str = ACTIVE, login: str | None = None) -> tuple[Merchant, Any]:
    m = Merchant(mid, "女川商店", "SHOP", "5999", "ONAGAWA", status, login or mid.lower(), BANK, NOW)
    return m, new_account(login_id=m.login_id, role="merchant", password="p" * 10, merchant_id=mid, now=NOW)


def payment(pid: str, amount: int, when: dt.datetime = NOW, mid: str = "M1", consumer: str = "C1") -> Payment:
    return Payment(pid, mid, consumer, amount, COMPLETED, when, None, "女川商店", "SHOP", (Share("G1", EXP, amount),))


def record(key: str, pid: str, consumer: str = "C1") -> IdempotencyRecord:
    return IdempotencyRecord(consumer, key, "fp", 201, '{"ok":true}', pid, NOW)


def funded(r: Repos, points: int = 1000) -> Wallet:
    r.c.payment_repo.commit_grant(Grant("G1", "C1", points, EXP.date()), Lot("G1", EXP, points), NOW)
    return r.c.payment_repo.wallet("C1")


def pay(r: Repos, wallet: Wallet, p: Payment, key: str) -> None:
    lots = (Lot("G1", EXP, wallet.balance(NOW) - p.amount),)
    r.c.payment_repo.commit_payment(wallet=wallet, lots=lots, swept_points=0, payment=p,
                                    record=record(key, p.payment_id, p.consumer_id))


# -- payments -------------------------------------------------------------------------------------
def test_a_payment_commits_everything_and_moves_the_version(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant())
    wallet = funded(repos)
    pay(repos, wallet, payment("P1", 300), "k1")
    after = repos.c.payment_repo.wallet("C1")
    assert (after.version, after.balance(NOW)) == (wallet.version + 1, 700)
    assert repos.c.payment_repo.payment("P1") == payment("P1", 300)
    assert repos.c.payment_repo.idempotency("C1", "k1").payment_id == "P1"  # type: ignore[union-attr]


@pytest.mark.parametrize("what", ["wallet", "payment", "merchant", "idempotency"])
def test_each_payment_condition_rejects_the_whole_transaction(repos: Repos, what: str) -> None:
    repos.c.merchant_repo.add(*merchant())
    wallet = funded(repos)
    pay(repos, wallet, payment("P1", 100), "k1")
    current = repos.c.payment_repo.wallet("C1")
    stale = wallet if what == "wallet" else current
    pid = "P1" if what == "payment" else "P2"
    key = "k1" if what == "idempotency" else "k2"
    if what == "merchant":
        repos.c.merchant_repo.set_status("M1", SUSPENDED, NOW)
    with pytest.raises(WriteRejected) as caught:
        pay(repos, stale, payment(pid, 50), key)
    assert what in caught.value.reasons
    assert repos.c.payment_repo.wallet("C1") == current
    assert repos.c.payment_repo.idempotency("C1", "k2") is None
    assert repos.c.payment_repo.payment("P2") is None


def test_cancel_conditions(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant())
    repos.c.merchant_repo.add(*merchant("M2"))
    pay(repos, funded(repos), payment("P1", 300), "k1")
    p = repos.c.payment_repo.payment("P1")
    assert p is not None
    refund = (Lot("G1", EXP, 1000),)
    with pytest.raises(WriteRejected) as other:
        repos.c.payment_repo.commit_cancel(payment=msgspec.structs.replace(p, merchant_id="M2"),
                                           wallet=repos.c.payment_repo.wallet("C1"), lots=refund, to_expired=0,
                                           now=NOW, by="x")
    assert "payment" in other.value.reasons
    repos.c.payment_repo.commit_cancel(payment=p, wallet=repos.c.payment_repo.wallet("C1"), lots=refund,
                                       to_expired=0, now=NOW, by="m1")
    cancelled = repos.c.payment_repo.payment("P1")
    assert cancelled is not None and (cancelled.status, cancelled.cancelled_at) == ("cancelled", NOW)
    with pytest.raises(WriteRejected) as twice:
        repos.c.payment_repo.commit_cancel(payment=p, wallet=repos.c.payment_repo.wallet("C1"), lots=refund,
                                           to_expired=0, now=NOW, by="m1")
    assert "payment" in twice.value.reasons
    assert repos.c.payment_repo.wallet("C1").balance(NOW) == 1000


def test_a_grant_id_is_used_once(repos: Repos) -> None:
    funded(repos, 100)
    with pytest.raises(WriteRejected) as caught:
        repos.c.payment_repo.commit_grant(Grant("G1", "C1", 100, EXP.date()), Lot("G1", EXP, 100), NOW)
    assert caught.value.reasons == {"grant"}
    assert repos.c.payment_repo.wallet("C1").balance(NOW) == 100
    assert repos.c.payment_repo.grant("G1") == Grant("G1", "C1", 100, EXP.date())


def test_history_ranges_are_half_open_and_page_newest_first(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant())
    wallet = funded(repos, 10_000)
    base = dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST)
    for i in range(5):
        pay(repos, wallet, payment(f"P{i}", 10, base + dt.timedelta(minutes=i)), f"k{i}")
        wallet = repos.c.payment_repo.wallet("C1")
    repo = repos.c.payment_repo
    day = base.date()
    start, end = base + dt.timedelta(minutes=1), base + dt.timedelta(minutes=4)
    everything, none = repo.day_payments("M1", day, start, end, newest_first=True)
    assert [p.payment_id for p in everything] == ["P3", "P2", "P1"] and none is None
    first, after = repo.day_payments("M1", day, start, end, newest_first=True, limit=2)
    second, last = repo.day_payments("M1", day, start, end, newest_first=True, limit=2, after=after)
    assert [p.payment_id for p in first + second] == ["P3", "P2", "P1"] and last is None
    exact, nothing_left = repo.day_payments("M1", day, start, end, newest_first=False, limit=3)
    assert [p.payment_id for p in exact] == ["P1", "P2", "P3"] and nothing_left is None
    mine, more = repo.consumer_payments("C1", limit=3, after=None)
    rest, _ = repo.consumer_payments("C1", limit=3, after=more)
    assert [p.payment_id for p in mine + rest] == ["P4", "P3", "P2", "P1", "P0"]
    events, _ = repo.merchant_events("M1", base, base + dt.timedelta(days=1))
    assert [e.payment_id for e in events] == ["P0", "P1", "P2", "P3", "P4"]
    older, cursor = repo.merchant_events("M1", base, base + dt.timedelta(days=1), limit=2)
    newer, _ = repo.merchant_events("M1", base, base + dt.timedelta(days=1), after=cursor, limit=10)
    assert [e.payment_id for e in older + newer] == ["P0", "P1", "P2", "P3", "P4"]
    since = repo.merchant_events_since("M1", base + dt.timedelta(minutes=2), limit=2)
    assert [(e.kind, e.payment_id) for e in since] == [("sale", "P2"), ("sale", "P3")]
    assert repo.merchant_events_since("M1", base + dt.timedelta(minutes=5), limit=50) == []


def test_totals_move_with_payments_and_cancellations(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant())
    wallet = funded(repos, 10_000)
    sold = dt.datetime(2026, 11, 15, 23, 0, tzinfo=JST)  # the last day of period 2026-11-1
    pay(repos, wallet, payment("P1", 300, sold), "k1")
    pay(repos, repos.c.payment_repo.wallet("C1"), payment("P2", 200, sold), "k2")
    p1 = repos.c.payment_repo.payment("P1")
    assert p1 is not None
    cancelled = dt.datetime(2026, 11, 16, 9, 0, tzinfo=JST)  # the next day, and the next period
    repos.c.payment_repo.commit_cancel(payment=p1, wallet=repos.c.payment_repo.wallet("C1"),
                                       lots=(Lot("G1", EXP, 9_800),), to_expired=0, now=cancelled, by="m1")
    days = repos.c.payment_repo.day_counts("M1", dt.date(2026, 11, 14), dt.date(2026, 11, 17))
    first, second = days[dt.date(2026, 11, 15)], days[dt.date(2026, 11, 16)]
    assert (first.sales_count, first.sales_points, first.cancelled_count, first.cancelled_points) == (2, 500, 1, 300)
    assert (first.completed_count, first.completed_points, first.cancel_count) == (1, 200, 0)
    assert (second.sales_count, second.cancel_count, second.cancel_points) == (0, 1, 300)
    assert set(days) == {dt.date(2026, 11, 15), dt.date(2026, 11, 16)}
    evening = repos.c.payment_repo.span_counts("M1", dt.date(2026, 11, 15), sold, sold + dt.timedelta(minutes=1))
    assert (evening.sales_count, evening.sales_points, evening.cancelled_count, evening.cancelled_points) == (
        2, 500, 1, 300)
    before = repos.c.payment_repo.span_counts("M1", dt.date(2026, 11, 15), sold - dt.timedelta(hours=1), sold)
    assert before.is_zero()
    p1_period = repos.c.payment_repo.period_counts("2026-11-1")
    p2_period = repos.c.payment_repo.period_counts("2026-11-2")
    assert (p1_period["M1"].sales_points, p1_period["M1"].cancel_points) == (500, 0)
    assert (p2_period["M1"].sales_points, p2_period["M1"].cancel_points) == (0, 300)
    assert repos.c.payment_repo.granted_points() == 10_000
    assert [w.consumer_id for w in repos.c.payment_repo.wallets()] == ["C1"]


# -- accounts and merchants -----------------------------------------------------------------------
def test_login_ids_and_merchant_ids_are_unique(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant("M1", login="shop"))
    with pytest.raises(MerchantIdTaken):
        repos.c.merchant_repo.add(*merchant("M1", login="other"))
    with pytest.raises(LoginIdTaken):
        repos.c.merchant_repo.add(*merchant("M2", login="SHOP"))  # case does not make a new id
    assert repos.c.merchant_repo.get("M2") is None and repos.c.account_repo.get("other") is None
    with pytest.raises(NotFound):
        repos.c.merchant_repo.set_status("NOPE", SUSPENDED, NOW)


def shop(sid: str, mid: str = "M1", seconds: int = 0) -> Store:
    return Store(sid, mid, f"支店{sid}", f"BRANCH {sid}", "5999", "ONAGAWA", ACTIVE,
                 NOW + dt.timedelta(seconds=seconds))


def test_shops_are_listed_per_merchant_found_by_id_and_their_ids_unique(repos: Repos) -> None:
    m = repos.c.merchant_repo
    m.add(*merchant("M1"))
    m.add(*merchant("M2", login="m2"))
    m.add_store(shop("S2", seconds=2), ACTIVE)
    m.add_store(shop("S1", seconds=1), ACTIVE)
    m.add_store(shop("S9", mid="M2"), ACTIVE)
    assert [s.store_id for s in m.stores("M1")] == ["S1", "S2"] and [s.store_id for s in m.stores("M2")] == ["S9"]
    assert m.get_store("S1") == shop("S1", seconds=1) and m.get_store("M1") is None and m.get_store("NOPE") is None
    for taken in (shop("S1", mid="M2"), shop("M2"), shop("M1")):
        with pytest.raises(StoreIdTaken):
            m.add_store(taken, ACTIVE)
    with pytest.raises(NotFound):
        m.add_store(shop("S5", mid="NOPE"), ACTIVE)
    with pytest.raises(MerchantIdTaken):
        m.add(*merchant("S1", login="s1"))
    assert [s.store_id for s in m.stores("M1")] == ["S1", "S2"] and m.get("S1") is None


def test_a_suspended_shop_or_merchant_rejects_payments_at_it(repos: Repos) -> None:
    m = repos.c.merchant_repo
    m.add(*merchant("M1"))
    m.add_store(shop("S1"), ACTIVE)
    wallet = funded(repos)

    def attempt(pid: str, store: str) -> set[str]:
        try:
            pay(repos, repos.c.payment_repo.wallet("C1"), msgspec.structs.replace(payment(pid, 10), store_id=store),
                "k" + pid)
        except WriteRejected as exc:
            return exc.reasons
        return set()

    assert wallet.version == 1
    suspended = m.set_store_status(shop("S1"), SUSPENDED, SUSPENDED, NOW)
    assert suspended.status == SUSPENDED and m.get_store("S1") == suspended
    assert attempt("P1", "S1") == {"merchant"} and attempt("P2", "M1") == set()
    m.set_store_status(shop("S1"), ACTIVE, ACTIVE, NOW)
    m.set_status("M1", SUSPENDED, NOW)
    assert attempt("P3", "S1") == {"merchant"} and attempt("P4", "M1") == {"merchant"}
    m.set_status("M1", ACTIVE, NOW)
    assert attempt("P5", "S1") == set()
    paid = repos.c.payment_repo.payment("P5")
    assert paid is not None and paid.store_id == "S1"


def test_history_and_day_totals_filter_by_shop(repos: Repos) -> None:
    repos.c.merchant_repo.add(*merchant("M1"))
    repos.c.merchant_repo.add_store(shop("S1"), ACTIVE)
    funded(repos)
    for pid, store, amount in (("P1", "M1", 10), ("P2", "S1", 20), ("P3", "S1", 40)):
        pay(repos, repos.c.payment_repo.wallet("C1"),
            msgspec.structs.replace(payment(pid, amount, NOW + dt.timedelta(seconds=int(pid[1]))), store_id=store),
            "k" + pid)
    repo = repos.c.payment_repo
    day = NOW.astimezone(JST).date()
    start, end = NOW, NOW + dt.timedelta(minutes=1)
    for stores, pids, points in ((None, ["P3", "P2", "P1"], 70), (frozenset({"S1"}), ["P3", "P2"], 60),
                                 (frozenset({"M1"}), ["P1"], 10), (frozenset({"M1", "S1"}), ["P3", "P2", "P1"], 70)):
        rows, _ = repo.day_payments("M1", day, start, end, newest_first=True, stores=stores)
        assert [p.payment_id for p in rows] == pids, stores
        first, after = repo.day_payments("M1", day, start, end, newest_first=True, limit=1, stores=stores)
        assert [p.payment_id for p in first] == pids[:1]
        rest = repo.day_payments("M1", day, start, end, newest_first=True, limit=5, after=after,
                                 stores=stores)[0] if after is not None else []
        assert [p.payment_id for p in rest] == pids[1:], stores
        assert repo.span_counts("M1", day, start, end, stores).sales_points == points
        assert repo.day_counts("M1", day, day, stores)[day].sales_points == points


def test_merchants_page_in_registration_order(repos: Repos) -> None:
    for i in range(5):
        m, owner = merchant(f"M{i}")
        repos.c.merchant_repo.add(msgspec.structs.replace(m, created_at=NOW + dt.timedelta(seconds=i)), owner)
    first, after = repos.c.merchant_repo.page(limit=3, after=None)
    second, _ = repos.c.merchant_repo.page(limit=3, after=after)
    assert [m.merchant_id for m in first + second] == [f"M{i}" for i in range(5)]


WINDOW = dt.timedelta(minutes=15)


def test_checks_are_reserved_only_from_the_record_seen(repos: Repos) -> None:
    repo = repos.c.account_repo
    seen = repo.attempts("who")
    assert repo.start_check("who", seen, NOW, WINDOW, 2)
    assert not repo.start_check("who", seen, NOW, WINDOW, 2)  # someone moved it since: read again
    now = repo.attempts("who")
    assert (now.checks, now.failures, now.window_until) == (1, 0, NOW + WINDOW)
    assert repo.start_check("who", now, NOW, WINDOW, 2)
    full = repo.attempts("who")
    assert full.checks == 2 and not repo.start_check("who", full, NOW, WINDOW, 2)  # no room in the window
    later = NOW + WINDOW + dt.timedelta(seconds=1)
    assert repo.start_check("who", full, later, WINDOW, 2)  # the window is over: a new one
    assert repo.attempts("who").checks == 1


def test_the_failure_that_reaches_the_limit_locks_and_a_lock_outlives_a_success(repos: Repos) -> None:
    repo = repos.c.account_repo
    repo.start_check("who", repo.attempts("who"), NOW, WINDOW, 5)
    assert [repo.record_failure("who", NOW, WINDOW, 5).failures for _ in range(5)] == [1, 2, 3, 4, 5]
    assert repo.attempts("who").locked(NOW + dt.timedelta(minutes=14))
    assert not repo.record_success("who", 5)  # a right password never lifts a lock in force
    assert repo.attempts("who").locked(NOW)
    repo.clear_attempts("who")
    assert not repo.attempts("who").locked(NOW) and repo.record_success("who", 5)


def test_a_session_needs_the_account_as_its_login_read_it(repos: Repos) -> None:
    from chalicelib.accounts.model import Session

    repo = repos.c.account_repo
    account = new_account(login_id="ops", role="operator", password="p" * 10, merchant_id=None, now=NOW)
    repo.add(account)

    def session(sid: str, generation: int) -> Session:
        return Session(sid, "ops", "operator", None, False, generation, NOW, NOW, NOW + dt.timedelta(hours=2),
                       NOW + dt.timedelta(hours=12))

    repo.add_session(session("s1", 0))
    changed = repo.set_password("ops", "other-hash", NOW, must_change=True)
    assert changed.generation == 1 and changed.must_change_password
    with pytest.raises(WriteRejected):
        repo.add_session(session("s2", 0))  # a login that read the account before the change
    repo.add_session(session("s2", 1))
    repo.touch_session("ops", "s2", NOW + dt.timedelta(minutes=10), NOW + dt.timedelta(hours=3))
    assert repo.session("OPS", "s2").expires_at == NOW + dt.timedelta(hours=3)  # type: ignore[union-attr]
    assert repo.end_sessions("ops") == 2 and repo.session("ops", "s1") is None
    repo.touch_session("ops", "s2", NOW, NOW + dt.timedelta(hours=4))  # never brings one back
    assert repo.session("ops", "s2") is None
    repo.set_status("ops", "revoked", NOW)
    with pytest.raises(WriteRejected):
        repo.add_session(session("s3", 2))


# -- staff and the audit log ----------------------------------------------------------------------
def test_staff_are_listed_per_merchant_and_a_disabled_one_gets_no_session(repos: Repos) -> None:
    from chalicelib.accounts.model import Session

    repo = repos.c.account_repo
    owner = new_account(login_id="boss", role="merchant", password="p" * 10, merchant_id="M1", now=NOW)
    repo.add(owner)
    for sid, mid, stores in (("S1", "M1", None), ("S2", "M1", ("M1",)), ("S3", "M2", None)):
        member = msgspec.structs.replace(new_account(login_id=f"ogw{sid.lower()}", role="merchant", password="p" * 10,
                                                     merchant_id=mid, now=NOW),
                                         staff_id=sid, staff_role="clerk", store_ids=stores, name="花子")
        repo.add(member)
    assert [a.staff_id for a in sorted(repo.staff("M1"), key=lambda a: a.staff_id or "")] == ["S1", "S2"]
    found = repo.staff_member("M1", "S2")
    assert found is not None and found.store_ids == ("M1",) and found.staff_role == "clerk" and found.name == "花子"
    assert repo.staff_member("M1", "S3") is None and repo.staff_member("M2", "S3") is not None
    assert repo.get("boss").effective_staff_role == "owner"  # type: ignore[union-attr]

    def session(sid: str, generation: int) -> Session:
        return Session(sid, "ogws1", "merchant", "M1", False, generation, NOW, NOW, NOW + dt.timedelta(hours=2),
                       NOW + dt.timedelta(hours=12), staff_id="S1", staff_role="clerk", store_ids=("M1",))

    repo.add_session(session("a", 0))
    stored = repo.session("ogws1", "a")
    assert stored is not None and (stored.staff_id, stored.staff_role, stored.store_ids) == ("S1", "clerk", ("M1",))
    disabled = repo.set_disabled("ogws1", True, NOW)
    assert disabled.disabled and disabled.generation == 1
    with pytest.raises(WriteRejected):
        repo.add_session(session("b", 1))  # disabled: no session, even at the current generation
    assert repo.set_disabled("ogws1", False, NOW).generation == 2
    repo.add_session(session("c", 2))
    with pytest.raises(NotFound):
        repo.set_disabled("nobody", True, NOW)


def test_audit_entries_are_append_only_and_read_newest_first_per_month(repos: Repos) -> None:
    from chalicelib.audit.model import AuditEntry
    from chalicelib.audit.repository import AuditEntryExists

    repo = repos.c.audit_repo

    def entry(n: int, mid: str | None, when: dt.datetime = NOW) -> AuditEntry:
        return AuditEntry(audit_id=f"A{n:03d}", at=when + dt.timedelta(seconds=n), actor="ogwx", action="login",
                          target="t", ip="192.0.2.1", merchant_id=mid)

    for n in range(5):
        repo.add(entry(n, "M1"))
    repo.add(entry(5, "M2"))
    repo.add(entry(6, None))
    repo.add(entry(7, "M1", NOW - dt.timedelta(days=40)))  # the month before
    with pytest.raises(AuditEntryExists):
        repo.add(entry(2, "M1"))  # the same entry again: refused, never overwritten
    assert not [m for m in dir(repo) if m.startswith(("update", "delete", "remove", "replace", "set"))]
    first, after = repo.month_page("M1", "2026-11", limit=3, after=None)
    assert [e.audit_id for e in first] == ["A004", "A003", "A002"] and after is not None
    rest, after = repo.month_page("M1", "2026-11", limit=3, after=after)
    assert [e.audit_id for e in rest] == ["A001", "A000"] and after is None
    everyone, _ = repo.month_page(None, "2026-11", limit=50, after=None)
    assert [e.audit_id for e in everyone] == ["A006", "A005", "A004", "A003", "A002", "A001", "A000"]
    assert everyone[0].merchant_id is None and everyone[1].merchant_id == "M2" and everyone[1].ip == "192.0.2.1"
    assert [e.audit_id for e in repo.month_page("M1", "2026-10", limit=5, after=None)[0]] == ["A007"]
    assert repo.month_page("M9", "2026-11", limit=5, after=None) == ([], None)


# -- settlement -----------------------------------------------------------------------------------
def test_payouts_are_written_once_and_marked_only_from_exported(repos: Repos) -> None:
    repo = repos.c.settlement_repo
    p = Payout("2026-11-1", "M1", "店", 1, 100, 0, 0, 0, 100, 100, 0, dt.date(2026, 11, 30), dt.date(2026, 11, 16),
               "scheduled", NOW)
    assert repo.add_payout(p) is None
    assert repo.add_payout(dataclasses.replace(p, payout=5)) == p
    with pytest.raises(WriteRejected) as not_exported:
        repo.set_payout_status("2026-11-1", "M1", "paid", NOW)
    assert not_exported.value.reasons == {"status"}
    repo.export_payout(p, "2026-11-1", NOW)
    repo.export_payout(p, "2026-11-1", NOW)  # a generation that resumes: already in this batch, fine
    with pytest.raises(WriteRejected):
        repo.export_payout(p, "2026-11-2", NOW)  # but never into a second batch while exported
    assert repo.set_payout_status("2026-11-1", "M1", "failed", NOW).status == "failed"
    assert [f.merchant_id for f in repo.failed_payouts()] == ["M1"]
    repo.export_payout(p, "2026-11-2", NOW)
    assert list(repo.failed_payouts()) == []
    assert repo.payout("2026-11-1", "M1").batch_id == "2026-11-2"  # type: ignore[union-attr]


def test_the_transfer_lock_holds_marks_and_other_generations(repos: Repos) -> None:
    repo = repos.c.settlement_repo
    p = Payout("2026-11-1", "M1", "店", 1, 100, 0, 0, 0, 100, 100, 0, dt.date(2026, 11, 30), dt.date(2026, 11, 16),
               "scheduled", NOW)
    repo.add_payout(p)
    repo.export_payout(p, "2026-11-1", NOW)
    lease = dt.timedelta(minutes=2)
    assert repo.lock_transfers("2026-11-1", NOW, lease)
    assert not repo.lock_transfers("2026-11-2", NOW + dt.timedelta(minutes=1), lease)
    with pytest.raises(WriteRejected) as held:
        repo.set_payout_status("2026-11-1", "M1", "paid", NOW + dt.timedelta(seconds=30))
    assert held.value.reasons == {"lock"} and repo.payout("2026-11-1", "M1").status == "exported"  # type: ignore[union-attr]
    assert repo.lock_transfers("2026-11-2", NOW + dt.timedelta(minutes=3), lease)  # the first lease ran out
    repo.unlock_transfers("2026-11-1")  # not the holder any more: nothing happens
    assert not repo.lock_transfers("2026-11-1", NOW + dt.timedelta(minutes=4), lease)
    repo.unlock_transfers("2026-11-2")
    assert repo.set_payout_status("2026-11-1", "M1", "paid", NOW + dt.timedelta(minutes=4)).status == "paid"


def test_the_close_cursor_moves_only_from_what_was_read(repos: Repos) -> None:
    repo = repos.c.settlement_repo
    repo.advance_last_closed("2026-10-1", None)
    with pytest.raises(WriteRejected):
        repo.advance_last_closed("2026-10-2", None)
    repo.advance_last_closed("2026-10-2", "2026-10-1")
    assert repo.last_closed() == "2026-10-2"


# -- claim codes ------------------------------------------------------------------------------------
def test_claim_batches_codes_claims_and_tries_behave_alike(repos: Repos) -> None:
    from chalicelib.payments.model import ClaimBatch, ClaimCode, ClaimTries

    repo = repos.c.payment_repo
    batch = ClaimBatch(batch_id="B1", count=2, points=500, expires_on=EXP.date(), expires_at=EXP, created_at=NOW)
    assert repo.start_claim_batch(batch) and not repo.start_claim_batch(batch)
    codes = [ClaimCode(code_hash=f"h{i}", batch_id="B1", index=i, points=500, expires_at=EXP) for i in range(2)]
    repo.put_claim_codes(codes)
    repo.put_claim_codes(codes)  # idempotent
    repo.finish_claim_batch("B1")
    stored = repo.claim_batch("B1")
    assert stored is not None and stored.ready and stored.count == 2 and stored.claimed_count == 0
    assert repo.claim_code("nope") is None
    code = repo.claim_code("h0")
    assert code is not None and code.claimed_by is None and code.points == 500 and code.expires_at == EXP
    # tries: a new window, one more in it, refused when full or when the record changed
    seen = repo.claim_tries("C1")
    assert seen == ClaimTries()
    window = dt.timedelta(hours=1)
    assert repo.start_claim_try("C1", seen, NOW, window, 2)
    assert not repo.start_claim_try("C1", seen, NOW, window, 2)  # stale
    seen = repo.claim_tries("C1")
    assert seen.tries == 1 and seen.window_until == NOW + window
    assert repo.start_claim_try("C1", seen, NOW, window, 2)
    full = repo.claim_tries("C1")
    assert not repo.start_claim_try("C1", full, NOW, window, 2)
    # a claim marks the code used, adds the lot, gives the try back
    repo.commit_claim(code, "C1", Lot("claim-h0", EXP, 500), NOW)
    assert repo.claim_tries("C1").tries == 1
    assert repo.wallet("C1").balance(NOW) == 500
    used = repo.claim_code("h0")
    assert used is not None and used.claimed_by == "C1" and used.claimed_at == NOW
    with pytest.raises(WriteRejected) as rejected:
        repo.commit_claim(code, "C2", Lot("claim-h0", EXP, 500), NOW)
    assert "used" in rejected.value.reasons
    late = repo.claim_code("h1")
    assert late is not None
    with pytest.raises(WriteRejected) as expired:
        repo.commit_claim(late, "C1", Lot("claim-h1", EXP, 500), EXP + dt.timedelta(milliseconds=1))
    assert "code" in expired.value.reasons
    assert [(c.index, c.claimed_by, c.expires_at) for c in repo.claimed_codes("B1")] == [(0, "C1", EXP)]
    listed = repo.claim_batches()
    assert [(b.batch_id, b.claimed_count, b.claimed_points) for b in listed] == [("B1", 1, 500)]
    # a put again of the codes (a resumed batch) does not undo the claim
    repo.put_claim_codes(codes)
    again = repo.claim_code("h0")
    assert again is not None and again.claimed_by == "C1"
