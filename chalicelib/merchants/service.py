"""Merchant registration, listing, suspension, access, password reset, shops and QR lookup.

Invariants:
- A merchant and its console login are created together in one transaction; the initial password
  is returned once (for the printed letter), must be changed at the first login, and only its scrypt
  hash is stored.
- A login ID is private: it is drawn at random and has nothing to do with the merchant id, which the
  QR code prints (so nobody can lock a shop out by reading its QR). A shop registered before this keeps
  its login ID until its password is reset, which also gives it a private one.
- Suspension stops payments to the shop; its people still sign in to read history and payouts.
  Revoking access ends their sessions and refuses their logins until the operator restores it: the
  owner login (the one made with the merchant, which the operator's password reset also acts on) and
  every staff login of the merchant.
- Names are checked against the QR field rules before anything is written, so every stored
  merchant encodes to a valid QR payload.
- Shops: the default shop is the merchant itself (same id), derived on every read, never stored; so a
  merchant registered before shops existed has it with no migration step. Added shops get a fresh id
  of the merchant-id style that no merchant or shop has. A payment or a QR lookup resolves a shop id
  to its merchant: first as a merchant id (the default shop, by far the most common), then as an
  added shop. A shop can be paid while both it and its merchant are active; the status a payment
  checks (its till) is written with every change of either.
"""

from __future__ import annotations

import msgspec

from chalicelib.accounts.service import AccountService, new_account
from chalicelib.core.clock import Clock
from chalicelib.core.errors import InvalidRequest, MerchantUnavailable, NotFound
from chalicelib.core.ids import new_id, new_login_id, new_secret_password
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.model import ACTIVE, REVOKED, SUSPENDED, Merchant, Store, default_store
from chalicelib.merchants.qr import decode_merchant_qr, encode_merchant_qr, validate_name_en, validate_name_ja
from chalicelib.merchants.repository import MerchantRepository, merchant_not_found, store_not_found

DEFAULT_MCC = "5999"


class Registration(msgspec.Struct, frozen=True):
    merchant: Merchant
    initial_password: str
    qr_payload: str


def clean_names(name_ja: str, name_en: str) -> tuple[str, str]:
    """The names as stored and printed on the QR code; ``InvalidRequest`` naming the field otherwise."""
    try:
        ja = validate_name_ja(name_ja)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="name_ja") from None
    try:
        en = validate_name_en(name_en)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="name_en") from None
    return ja, en


class MerchantService:
    def __init__(self, repo: MerchantRepository, accounts: AccountService, clock: Clock, *, guid: str,
                 city: str) -> None:
        self.repo = repo
        self.accounts = accounts
        self.clock = clock
        self.guid = guid
        self.city = city

    # -- registration -------------------------------------------------------------------------
    def register(self, *, name_ja: str, name_en: str, mcc: str | None, bank: BankAccount,
                 merchant_id: str | None = None, login_id: str | None = None,
                 password: str | None = None) -> Registration:
        ja, en = clean_names(name_ja, name_en)
        now = self.clock.now()
        mid = merchant_id or "M" + new_id(9)
        login = login_id or new_login_id()
        initial = password or new_secret_password()
        merchant = Merchant(merchant_id=mid, name_ja=ja, name_en=en, mcc=mcc or DEFAULT_MCC, city=self.city,
                            status=ACTIVE, login_id=login, bank=bank, created_at=now)
        payload = self.qr_payload(merchant)
        # An initial password is printed on a letter: it must be changed at the first login (only the
        # fixed demo accounts of the local stage, created with a given password, are exempt).
        owner = new_account(login_id=login, role="merchant", password=initial, merchant_id=mid, now=now,
                            must_change_password=password is None)
        self.repo.add(merchant, owner)
        return Registration(merchant=merchant, initial_password=initial, qr_payload=payload)

    # -- reads --------------------------------------------------------------------------------
    def get(self, merchant_id: str) -> Merchant:
        merchant = self.repo.get(merchant_id) if 0 < len(merchant_id) <= 64 else None
        if merchant is None:
            raise merchant_not_found()
        return merchant

    def qr_payload(self, merchant: Merchant) -> str:
        return encode_merchant_qr(merchant.qr(), guid=self.guid)

    def lookup_qr(self, payload: str) -> Store:
        """The active shop a scanned code names (``InvalidQR``, ``MerchantUnavailable``)."""
        return self.require_active_store(decode_merchant_qr(payload, guid=self.guid).merchant_id)

    def merchant_id_from_qr(self, payload: str) -> str:
        return decode_merchant_qr(payload, guid=self.guid).merchant_id

    def require_active(self, merchant_id: str) -> Merchant:
        try:
            merchant = self.get(merchant_id)
        except NotFound:
            raise MerchantUnavailable("このお店は登録されていません。", param="merchant_id") from None
        if not merchant.active:
            raise MerchantUnavailable()
        return merchant

    # -- shops --------------------------------------------------------------------------------
    def store(self, store_id: str) -> Store:
        """Any shop by its id: a merchant id names the default shop (``NotFound`` otherwise)."""
        if not 0 < len(store_id) <= 64:
            raise store_not_found()
        merchant = self.repo.get(store_id)
        if merchant is not None:
            return default_store(merchant)
        found = self.repo.get_store(store_id)
        if found is None:
            raise store_not_found()
        return found

    def merchant_store(self, merchant_id: str, store_id: str) -> Store:
        """A shop of this merchant; a shop of another merchant answers 404 like an unknown one."""
        store = self.store(store_id)
        if store.merchant_id != merchant_id:
            raise store_not_found()
        return store

    def stores(self, merchant_id: str) -> list[Store]:
        """Every shop of the merchant, the default one first (``NotFound`` for an unknown merchant)."""
        return [default_store(self.get(merchant_id)), *self.repo.stores(merchant_id)]

    def store_ids(self, merchant_id: str) -> frozenset[str]:
        """The ids of every shop of the merchant: one Query (the merchant id is its default shop's)."""
        return frozenset({merchant_id, *(s.store_id for s in self.repo.stores(merchant_id))})

    def store_qr_payload(self, store: Store) -> str:
        return encode_merchant_qr(store.qr(), guid=self.guid)

    def require_active_store(self, store_id: str) -> Store:
        """The shop, if it can be paid now: it and its merchant active (``MerchantUnavailable``)."""
        try:
            store = self.store(store_id)
        except NotFound:
            raise MerchantUnavailable("このお店は登録されていません。", param="merchant_id") from None
        if not store.active:
            raise MerchantUnavailable()
        if not store.is_default:
            merchant = self.repo.get(store.merchant_id)
            if merchant is None or not merchant.active:
                raise MerchantUnavailable()
        return store

    def add_store(self, merchant_id: str, *, name_ja: str, name_en: str, mcc: str | None,
                  store_id: str | None = None) -> Store:
        ja, en = clean_names(name_ja, name_en)
        merchant = self.get(merchant_id)
        store = Store(store_id=store_id or "M" + new_id(9), merchant_id=merchant.merchant_id, name_ja=ja, name_en=en,
                      mcc=mcc or merchant.mcc, city=self.city, status=ACTIVE, created_at=self.clock.now())
        self.repo.add_store(store, ACTIVE if merchant.active else merchant.status)
        return store

    def set_store_status(self, merchant_id: str, store_id: str, status: str) -> Store:
        """Suspend or reactivate an added shop; the default shop follows its merchant (400 here)."""
        store = self.merchant_store(merchant_id, store_id)
        if store.is_default:
            raise InvalidRequest("既定の店舗は事業者ごと利用停止・再開してください。", param="store_id")
        merchant = self.get(merchant_id)
        payable = status if merchant.active else SUSPENDED
        return self.repo.set_store_status(store, status, payable, self.clock.now())

    # -- changes ------------------------------------------------------------------------------
    def set_status(self, merchant_id: str, status: str) -> Merchant:
        return self.repo.set_status(merchant_id, status, self.clock.now())

    def reset_password(self, merchant_id: str) -> tuple[Merchant, str]:
        """A new initial password (to change at the next login); every session of the shop ends. A
        login ID that is the merchant id (registered before IDs were private) is replaced too."""
        merchant = self.get(merchant_id)
        password = new_secret_password()
        if merchant.login_id.strip().lower() == merchant.merchant_id.strip().lower():
            account = self.accounts.repo.get(merchant.login_id)
            if account is not None:
                self.accounts.repo.end_sessions(merchant.login_id)
                fresh = msgspec.structs.replace(account, login_id=new_login_id(), generation=account.generation + 1)
                self.accounts.repo.replace(merchant.login_id, fresh)
                merchant = self.repo.set_login_id(merchant_id, fresh.login_id, self.clock.now())
        self.accounts.reset_password(merchant.login_id, password)
        return merchant, password

    def revoke_access(self, merchant_id: str) -> Merchant:
        """The owner login and every staff login of the merchant: no login, no session."""
        merchant = self.repo.set_access(merchant_id, REVOKED, self.clock.now())
        self.accounts.revoke(merchant.login_id)
        for member in self.accounts.repo.staff(merchant_id):
            self.accounts.revoke(member.login_id)
        return merchant

    def restore_access(self, merchant_id: str) -> Merchant:
        """Undoes a revocation only: a member its owner disabled stays disabled (a separate flag)."""
        merchant = self.repo.set_access(merchant_id, ACTIVE, self.clock.now())
        self.accounts.restore(merchant.login_id)
        for member in self.accounts.repo.staff(merchant_id):
            self.accounts.restore(member.login_id)
        return merchant
