"""Login, lockout, registration and password reset on in-memory fakes."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.repository import LoginIdTaken
from chalicelib.accounts.service import LOGIN_FAILED, AccountService, LoginService
from chalicelib.accounts.sessions import verify_session
from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import InvalidRequest, MerchantUnavailable, NotFound, TooManyAttempts, Unauthenticated
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.fake import FakeMerchantRepository
from chalicelib.merchants.model import SUSPENDED
from chalicelib.merchants.qr import decode_merchant_qr
from chalicelib.merchants.repository import MerchantIdTaken
from chalicelib.merchants.service import MerchantService

SECRET = "unit-test-session-secret-0123456789abcdef"
BANK = BankAccount("0001", "001", 1, "1234567", "ｵﾅｶﾞﾜ")


class Accounts:
    def __init__(self) -> None:
        self.clock = FixedClock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST))
        self.repo = FakeAccountRepository()
        self.accounts = AccountService(self.repo, self.clock)
        self.login = LoginService(self.repo, self.clock, SECRET, 7200)
        self.merchants = MerchantService(FakeMerchantRepository(self.repo), self.accounts, self.clock,
                                         guid="JP.ONAGAWA.CHIIKIPOINT", city="ONAGAWA")


@pytest.fixture
def a() -> Accounts:
    return Accounts()


def test_login_issues_a_session_of_the_account(a: Accounts) -> None:
    a.accounts.create(login_id="ops", role="operator", password="operator-pass", merchant_id=None)
    result = a.login.login("OPS", "operator-pass")  # login ids are case-insensitive
    principal = verify_session(SECRET, result.token, a.clock.now())
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
    assert a.repo.failures("ops").count == 0


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
