"""Login, lockout, sessions, password changes, registration and reset on in-memory fakes."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.keys import KeyRing
from chalicelib.accounts.model import MAX_CHECKS
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.accounts.service import (
    ACCESS_REVOKED,
    BUSY,
    LOGIN_FAILED,
    AccountService,
    LoginService,
    SessionService,
)
from chalicelib.accounts.sessions import Principal
from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import InvalidRequest, MerchantUnavailable, NotFound, TooManyAttempts, Unauthenticated
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.fake import FakeMerchantRepository
from chalicelib.merchants.model import SUSPENDED
from chalicelib.merchants.qr import decode_merchant_qr
from chalicelib.merchants.repository import MerchantIdTaken
from chalicelib.merchants.service import MerchantService

KEYS = KeyRing(session_keys=("s" * 40,), cursor_key="c" * 40, claim_key="q" * 40)
BANK = BankAccount("0001", "001", 1, "1234567", "ｵﾅｶﾞﾜ")


class Accounts:
    def __init__(self) -> None:
        self.clock = FixedClock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST))
        self.repo = FakeAccountRepository()
        self.keys = KEYS
        self.sessions = SessionService(self.repo, self.clock, lambda: self.keys, idle=dt.timedelta(hours=2),
                                       maximum=dt.timedelta(hours=12))
        self.login = LoginService(self.repo, self.clock, self.sessions)
        self.accounts = AccountService(self.repo, self.clock, self.login)
        self.merchants = MerchantService(FakeMerchantRepository(self.repo), self.accounts, self.clock,
                                         guid="JP.ONAGAWA.CHIIKIPOINT", city="ONAGAWA")

    def operator(self) -> None:
        self.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)


@pytest.fixture
def a() -> Accounts:
    return Accounts()


def test_login_issues_a_session_of_the_account(a: Accounts) -> None:
    a.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)
    result = a.login.login("OPS", "operator-pass")  # login ids are case-insensitive
    principal = a.sessions.verify(result.token)
    assert (principal.role, principal.subject, result.expires_at - a.clock.now()) == (
        "operator", "ops", dt.timedelta(hours=2))


def test_unknown_id_and_wrong_password_are_answered_alike(a: Accounts) -> None:
    a.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)
    answers = []
    for login_id, password in (("ops", "wrong"), ("nobody", "wrong")):
        with pytest.raises(Unauthenticated) as caught:
            a.login.login(login_id, password)
        answers.append((caught.value.code, caught.value.message))
    assert answers == [("unauthenticated", LOGIN_FAILED)] * 2


def test_five_failures_lock_even_the_right_password_for_fifteen_minutes(a: Accounts) -> None:
    a.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            a.login.login("ops", "wrong")
    with pytest.raises(TooManyAttempts):
        a.login.login("ops", "wrong")
    with pytest.raises(TooManyAttempts):
        a.login.login("ops", "operator-pass")
    a.clock.advance(minutes=15, seconds=1)
    assert a.login.login("ops", "operator-pass").role == "operator"


def test_a_success_clears_the_count(a: Accounts) -> None:
    a.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            a.login.login("ops", "wrong")
    a.login.login("ops", "operator-pass")
    assert a.repo.attempts("ops").failures == 0


def test_register_creates_shop_and_login_together(a: Accounts) -> None:
    reg = a.merchants.register(name_ja=" 女川商店 ", name_en="ONAGAWA SHOTEN", mcc=None, bank=BANK)
    assert reg.merchant.name_ja == "女川商店" and reg.merchant.mcc == "5999"
    assert decode_merchant_qr(reg.qr_payload).merchant_id == reg.merchant.merchant_id
    assert a.login.login(reg.merchant.login_id, reg.initial_password).merchant_id == reg.merchant.merchant_id


def test_register_refuses_taken_ids_and_bad_names_writing_nothing(a: Accounts) -> None:
    a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK, merchant_id="M1", login_id="shop")
    with pytest.raises(MerchantIdTaken):
        a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK, merchant_id="M1", login_id="x")
    with pytest.raises(LoginIdTaken):
        a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK, merchant_id="M2", login_id="SHOP")
    for name_ja, name_en, param in (("", "SHOP", "name_ja"), ("店", "店", "name_en"), ("店" * 26, "S", "name_ja")):
        with pytest.raises(InvalidRequest) as caught:
            a.merchants.register(name_ja=name_ja, name_en=name_en, mcc=None, bank=BANK, merchant_id="M3")
        assert caught.value.param == param
    assert a.repo.get("x") is None and a.merchants.repo.get("M3") is None


def test_reset_password_replaces_the_old_one(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK)
    merchant, password = a.merchants.reset_password(reg.merchant.merchant_id)
    with pytest.raises(Unauthenticated):
        a.login.login(merchant.login_id, reg.initial_password)
    assert a.login.login(merchant.login_id, password).merchant_id == merchant.merchant_id
    with pytest.raises(NotFound):
        a.merchants.reset_password("NOPE")


def test_a_suspended_shop_cannot_be_paid_but_still_exists(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK)
    a.merchants.set_status(reg.merchant.merchant_id, SUSPENDED)
    with pytest.raises(MerchantUnavailable):
        a.merchants.lookup_qr(reg.qr_payload)
    assert a.merchants.get(reg.merchant.merchant_id).status == SUSPENDED


def test_shops_of_a_merchant_on_the_fakes(a: Accounts) -> None:
    """SPEC §6a: the default shop is the merchant; added shops have their own ids, QR codes and status,
    and a shop can be paid only while it and its merchant are active."""
    reg = a.merchants.register(name_ja="本店", name_en="HONTEN", mcc="5411", bank=BANK)
    mid = reg.merchant.merchant_id
    default = a.merchants.store(mid)
    assert (default.store_id, default.merchant_id, default.name_ja, default.is_default) == (mid, mid, "本店", True)
    added = a.merchants.add_store(mid, name_ja="支店", name_en="SHITEN", mcc=None)
    assert added.store_id != mid and added.mcc == "5411" and not added.is_default  # the merchant's MCC by default
    assert [s.store_id for s in a.merchants.stores(mid)] == [mid, added.store_id]
    assert a.merchants.store_ids(mid) == frozenset({mid, added.store_id})
    payload = a.merchants.store_qr_payload(added)
    assert decode_merchant_qr(payload, guid="JP.ONAGAWA.CHIIKIPOINT").merchant_id == added.store_id
    assert a.merchants.lookup_qr(payload) == added
    other = a.merchants.register(name_ja="隣", name_en="TONARI", mcc=None, bank=BANK).merchant.merchant_id
    with pytest.raises(NotFound):
        a.merchants.merchant_store(other, added.store_id)  # another merchant's shop: 404
    with pytest.raises(NotFound):
        a.merchants.add_store("NOPE", name_ja="店", name_en="SHOP", mcc=None)
    with pytest.raises(InvalidRequest):
        a.merchants.add_store(mid, name_ja="店", name_en="日本語", mcc=None)
    with pytest.raises(InvalidRequest):
        a.merchants.set_store_status(mid, mid, SUSPENDED)  # the default shop follows its merchant
    a.merchants.set_store_status(mid, added.store_id, SUSPENDED)
    with pytest.raises(MerchantUnavailable):
        a.merchants.lookup_qr(payload)
    assert a.merchants.lookup_qr(reg.qr_payload).store_id == mid
    a.merchants.set_store_status(mid, added.store_id, "active")
    a.merchants.set_status(mid, SUSPENDED)
    with pytest.raises(MerchantUnavailable):
        a.merchants.lookup_qr(payload)  # the merchant's suspension stops every shop of it
    assert not a.merchants.repo.payable(added.store_id)  # type: ignore[attr-defined]
    a.merchants.set_store_status(mid, added.store_id, "active")  # reactivating the shop alone is not enough
    assert not a.merchants.repo.payable(added.store_id)  # type: ignore[attr-defined]
    a.merchants.set_status(mid, "active")
    assert a.merchants.repo.payable(added.store_id)  # type: ignore[attr-defined]
    with pytest.raises(MerchantUnavailable):
        a.merchants.require_active_store("NOPE")


# -- the lockout holds when many checks race -------------------------------------------------------


def test_only_max_checks_can_be_reserved_in_one_window_however_many_race(a: Accounts) -> None:
    """Every racer reads the same empty record, then all try to reserve: the conditional write lets
    one through per read, so racers that lost re-read and at most MAX_CHECKS ever start."""
    a.operator()
    seen = a.repo.attempts("ops")
    now = a.clock.now()
    window = dt.timedelta(minutes=15)
    won = [a.repo.start_check("ops", seen, now, window, MAX_CHECKS) for _ in range(20)]
    assert won.count(True) == 1  # the rest saw a stale record
    for _ in range(20):
        a.repo.start_check("ops", a.repo.attempts("ops"), now, window, MAX_CHECKS)
    assert a.repo.attempts("ops").checks == MAX_CHECKS
    with pytest.raises(TooManyAttempts) as caught:
        a.login.login("ops", "operator-pass")  # even the right password waits for the window
    assert caught.value.message == BUSY


def test_a_lock_that_comes_into_force_during_a_right_check_refuses_it(a: Accounts) -> None:
    a.operator()
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            a.login.login("ops", "wrong")
    a.login._reserve_check("ops")  # a right check is under way ...
    a.repo.record_failure("ops", a.clock.now(), dt.timedelta(minutes=15), 5)  # ... when a fifth failure lands
    assert not a.repo.record_success("ops", 5)
    assert a.repo.attempts("ops").failures == 5


def test_unknown_ids_are_locked_out_too(a: Accounts) -> None:
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            a.login.login("nobody", "guess")
    with pytest.raises(TooManyAttempts):
        a.login.login("nobody", "guess")


# -- sessions ----------------------------------------------------------------------------------


def test_a_session_slides_with_use_but_never_past_its_maximum(a: Accounts) -> None:
    a.operator()
    token = a.login.login("ops", "operator-pass").token
    for _ in range(6):  # 6 × 1h50m of use, each within the idle limit
        a.clock.advance(hours=1, minutes=50)
        assert a.sessions.verify(token).subject == "ops"
    a.clock.advance(hours=1, minutes=1)  # 12h01m after login: over the maximum though recently used
    with pytest.raises(Unauthenticated):
        a.sessions.verify(token)


def test_an_idle_session_ends_and_a_touch_costs_one_write_per_five_minutes(a: Accounts) -> None:
    a.operator()
    token = a.login.login("ops", "operator-pass").token
    session_id = a.sessions.verify(token).session_id
    before = a.repo.sessions[("ops", session_id)].refreshed_at
    a.clock.advance(minutes=4)
    a.sessions.verify(token)
    assert a.repo.sessions[("ops", session_id)].refreshed_at == before  # no write within 5 minutes
    a.clock.advance(minutes=1)
    a.sessions.verify(token)
    assert a.repo.sessions[("ops", session_id)].refreshed_at == a.clock.now()
    a.clock.advance(hours=2, seconds=1)
    with pytest.raises(Unauthenticated):
        a.sessions.verify(token)


def test_logout_ends_only_that_session(a: Accounts) -> None:
    a.operator()
    first = a.login.login("ops", "operator-pass").token
    second = a.login.login("ops", "operator-pass").token
    a.sessions.end(a.sessions.verify(first))
    with pytest.raises(Unauthenticated):
        a.sessions.verify(first)
    assert a.sessions.verify(second).subject == "ops"


def test_a_forged_or_foreign_key_token_is_refused_and_a_rotated_key_still_verifies(a: Accounts) -> None:
    a.operator()
    token = a.login.login("ops", "operator-pass").token
    login, sid, mac = token.rsplit(".", 2)
    for bad in (f"{login}.{sid}.{mac[:-1]}A" if mac[-1] != "A" else f"{login}.{sid}.{mac[:-1]}B", "s1.x.y", ""):
        with pytest.raises(Unauthenticated):
            a.sessions.verify(bad)
    a.keys = KeyRing(session_keys=("n" * 40, "s" * 40), cursor_key="c" * 40, claim_key="q" * 40)
    assert a.sessions.verify(token).subject == "ops"  # signed with the previous key: still good
    a.keys = KeyRing(session_keys=("n" * 40,), cursor_key="c" * 40, claim_key="q" * 40)
    with pytest.raises(Unauthenticated):
        a.sessions.verify(token)  # the old key dropped: its sessions are gone


# -- password changes, resets, revocation -----------------------------------------------------------


def _principal(a: Accounts, token: str) -> Principal:
    return a.sessions.verify(token)


def test_changing_the_password_ends_every_other_session(a: Accounts) -> None:
    a.operator()
    other = a.login.login("ops", "operator-pass").token
    mine = a.login.login("ops", "operator-pass").token
    fresh = a.accounts.change_password(_principal(a, mine), "operator-pass", "kamome-minato-2026")
    for token in (other, mine):
        with pytest.raises(Unauthenticated):
            a.sessions.verify(token)
    assert a.sessions.verify(fresh.token).subject == "ops"
    with pytest.raises(Unauthenticated):
        a.login.login("ops", "operator-pass")
    assert a.login.login("ops", "kamome-minato-2026").role == "operator"


@pytest.mark.parametrize(("new", "fragment"), [
    ("short", "10文字以上"),
    ("password123", "よく使われて"),
    ("ops-ops-ops-ops", "ログインID"),
    ("operator-pass", "違うパスワード"),
])
def test_a_weak_or_unchanged_new_password_is_refused_and_changes_nothing(a: Accounts, new: str, fragment: str) -> None:
    a.operator()
    token = a.login.login("ops", "operator-pass").token
    with pytest.raises(InvalidRequest) as caught:
        a.accounts.change_password(_principal(a, token), "operator-pass", new)
    assert fragment in caught.value.message and caught.value.param == "new_password"
    assert a.sessions.verify(token).subject == "ops"


def test_a_wrong_current_password_counts_towards_the_lockout(a: Accounts) -> None:
    a.operator()
    token = a.login.login("ops", "operator-pass").token
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            a.accounts.change_password(_principal(a, token), "wrong", "kamome-minato-2026")
    with pytest.raises(TooManyAttempts):
        a.accounts.change_password(_principal(a, token), "wrong", "kamome-minato-2026")


def test_a_registered_shop_must_change_its_initial_password(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK)
    first = a.login.login(reg.merchant.login_id, reg.initial_password)
    assert first.must_change_password and a.sessions.verify(first.token).must_change_password
    changed = a.accounts.change_password(a.sessions.verify(first.token), reg.initial_password, "umineko-2026-ogw")
    assert not changed.must_change_password and not a.sessions.verify(changed.token).must_change_password
    assert not a.login.login(reg.merchant.login_id, "umineko-2026-ogw").must_change_password


def test_login_ids_are_private_not_the_merchant_id(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK)
    assert reg.merchant.login_id.lower() != reg.merchant.merchant_id.lower()
    with pytest.raises(Unauthenticated):
        a.login.login(reg.merchant.merchant_id, reg.initial_password)


def test_a_reset_ends_sessions_lifts_a_lock_and_must_be_changed(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK)
    token = a.login.login(reg.merchant.login_id, reg.initial_password).token
    for _ in range(5):
        with pytest.raises((Unauthenticated, TooManyAttempts)):
            a.login.login(reg.merchant.login_id, "wrong")
    merchant, password = a.merchants.reset_password(reg.merchant.merchant_id)
    with pytest.raises(Unauthenticated):
        a.sessions.verify(token)
    assert a.login.login(merchant.login_id, password).must_change_password


def test_revoking_access_ends_sessions_and_refuses_logins_until_restored(a: Accounts) -> None:
    reg = a.merchants.register(name_ja="店", name_en="SHOP", mcc=None, bank=BANK, password="umineko-2026-ogw")
    token = a.login.login(reg.merchant.login_id, "umineko-2026-ogw").token
    a.merchants.revoke_access(reg.merchant.merchant_id)
    with pytest.raises(Unauthenticated):
        a.sessions.verify(token)
    with pytest.raises(Unauthenticated) as caught:
        a.login.login(reg.merchant.login_id, "umineko-2026-ogw")
    assert caught.value.message == ACCESS_REVOKED
    a.merchants.restore_access(reg.merchant.merchant_id)
    assert a.login.login(reg.merchant.login_id, "umineko-2026-ogw").merchant_id == reg.merchant.merchant_id


def test_a_session_cannot_start_on_an_account_revoked_after_its_check(a: Accounts) -> None:
    """The session write is conditional on the account's generation: a revocation between the password
    check and the session write wins."""
    a.operator()
    account = a.login.check_password("ops", "operator-pass")
    a.accounts.revoke("ops")
    from chalicelib.core.errors import WriteRejected

    with pytest.raises(WriteRejected):
        a.sessions.start(account, a.clock.now())
