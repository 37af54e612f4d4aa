"""The DynamoDB implementation of :mod:`chalicelib.payments.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes."""


from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.core.clock import utc_key
from chalicelib.core.errors import WriteRejected
from chalicelib.core.periods import period_of
from chalicelib.merchants.model import ACTIVE
from chalicelib.payments.model import COMPLETED, Grant, IdempotencyRecord, LedgerEvent, Payment
from chalicelib.payments.repository import IDEMPOTENCY_TTL, Key
from chalicelib.payments.wallet import Lot, Share, Wallet
from chalicelib.store import connection as db
from chalicelib.store.models import (
    CancelItem,
    GrantItem,
    IdempotencyItem,
    LedgerItem,
    LotMap,
    MerchantItem,
    PaymentItem,
    WalletItem,
    consumer_history_pk,
    grant_pk,
    idem_pk,
    merchant_history_pk,
    merchant_pk,
    payment_pk,
    period_events_pk,
    wallet_pk,
)


# -- translation ---------------------------------------------------------------------------------
def _lot_map(lot: Lot | Share) -> LotMap:
    return LotMap(id=lot.lot_id, exp=lot.expires_at, pts=lot.points)  # type: ignore[no-untyped-call]


def wallet_from_item(consumer_id: str, item: WalletItem | None) -> Wallet:
    if item is None:
        return Wallet.empty(consumer_id)
    return Wallet(consumer_id=consumer_id, version=item.version or 0,
                  lots=tuple(Lot(m.id, m.exp, m.pts) for m in item.lots or []),
                  expired_points=item.expired_points or 0)


def payment_from_item(item: PaymentItem) -> Payment:
    return Payment(payment_id=item.payment_id, merchant_id=item.merchant_id, consumer_id=item.consumer_id,
                   amount=item.amount, status=item.status, completed_at=item.completed_at,
                   cancelled_at=item.cancelled_at, name_ja=item.name_ja or "", name_en=item.name_en or "",
                   shares=tuple(Share(m.id, m.exp, m.pts) for m in item.shares or []))


def payment_item(p: Payment, idempotency_key: str | None) -> PaymentItem:
    at = utc_key(p.completed_at)
    return PaymentItem(
        payment_pk(p.payment_id), "PAYMENT", payment_id=p.payment_id, merchant_id=p.merchant_id,
        consumer_id=p.consumer_id, amount=p.amount, status=p.status, completed_at=p.completed_at,
        name_ja=p.name_ja, name_en=p.name_en, shares=[_lot_map(s) for s in p.shares], idempotency_key=idempotency_key,
        gsi1pk=merchant_history_pk(p.merchant_id), gsi1sk=f"{at}#{p.payment_id}",
        gsi2pk=consumer_history_pk(p.consumer_id), gsi2sk=f"{at}#{p.payment_id}",
        gsi3pk=period_events_pk(period_of(p.completed_at).id), gsi3sk=f"{p.merchant_id}#{at}#{p.payment_id}#S",
    )


def cancel_item(p: Payment, cancelled_at: dt.datetime, by: str) -> CancelItem:
    at = utc_key(cancelled_at)
    return CancelItem(
        payment_pk(p.payment_id), "CANCEL", payment_id=p.payment_id, merchant_id=p.merchant_id,
        consumer_id=p.consumer_id, amount=p.amount, completed_at=p.completed_at, cancelled_at=cancelled_at,
        cancelled_by=by, gsi3pk=period_events_pk(period_of(cancelled_at).id),
        gsi3sk=f"{p.merchant_id}#{at}#{p.payment_id}#C",
    )


def event_from_item(item: LedgerItem) -> LedgerEvent:
    if isinstance(item, CancelItem):
        return LedgerEvent("cancel", item.payment_id, item.merchant_id, item.amount, item.cancelled_at)
    return LedgerEvent("sale", item.payment_id, item.merchant_id, item.amount, item.completed_at)


def _wallet_write(wallet: Wallet, lots: Sequence[Lot], add_expired: int, now: dt.datetime
                  ) -> tuple[WalletItem, list[Action]]:
    """The wallet's new lots, to be written on condition that its version is the one read: if a
    payment, grant or refund changed it since, the transaction fails and the caller re-plans."""
    item = WalletItem(wallet_pk(wallet.consumer_id), "WALLET")
    return item, [
        WalletItem.lots.set([_lot_map(lot) for lot in lots]),
        WalletItem.version.set(wallet.version + 1),
        WalletItem.updated_at.set(now),
        WalletItem.expired_points.set((WalletItem.expired_points | 0) + add_expired),
    ]


def _version_condition(wallet: Wallet) -> Any:
    if wallet.version == 0:  # never written: it must still not exist (or be at version 0)
        return WalletItem.version.does_not_exist() | (WalletItem.version == 0)
    return WalletItem.version == wallet.version


def _cancelled(exc: db.TransactionCancelled) -> WriteRejected:
    return WriteRejected(exc.conditions)


class DynamoPaymentRepository:
    # -- reads ----------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet:
        try:
            item: WalletItem | None = WalletItem.get(wallet_pk(consumer_id), "WALLET", consistent_read=True)
        except WalletItem.DoesNotExist:
            item = None
        return wallet_from_item(consumer_id, item)

    def payment(self, payment_id: str) -> Payment | None:
        try:
            return payment_from_item(PaymentItem.get(payment_pk(payment_id), "PAYMENT", consistent_read=True))
        except PaymentItem.DoesNotExist:
            return None

    def grant(self, grant_id: str) -> Grant | None:
        try:
            item = GrantItem.get(grant_pk(grant_id), "GRANT", consistent_read=True)
        except GrantItem.DoesNotExist:
            return None
        return Grant(item.grant_id, item.consumer_id, item.points, item.expires_on)

    def idempotency(self, consumer_id: str, key: str) -> IdempotencyRecord | None:
        try:
            item = IdempotencyItem.get(idem_pk(consumer_id, key), "IDEM", consistent_read=True)
        except IdempotencyItem.DoesNotExist:
            return None
        return IdempotencyRecord(consumer_id=consumer_id, key=key, fingerprint=item.fingerprint, status=item.status,
                                 response=item.response, payment_id=item.payment_id,
                                 created_at=item.created_at or (item.ttl - IDEMPOTENCY_TTL))

    def consumer_payments(self, consumer_id: str, *, limit: int, after: Key | None
                          ) -> tuple[list[Payment], Key | None]:
        items, last = db.page(PaymentItem.query(consumer_history_pk(consumer_id), index_name="gsi2",
                                                scan_index_forward=False, limit=limit, page_size=limit,
                                                last_evaluated_key=after), limit)
        return [payment_from_item(i) for i in items], last

    def _merchant_query(self, merchant_id: str, start: dt.datetime, end: dt.datetime, newest_first: bool,
                        **kwargs: Any) -> Any:
        # BETWEEN is inclusive and the range end exclusive: every sort key is "<stamp>#<id>", so the
        # bare stamp of the end instant sorts before any key at that instant and excludes it.
        return PaymentItem.query(merchant_history_pk(merchant_id), index_name="gsi1",
                                 range_key_condition=PaymentItem.gsi1sk.between(utc_key(start), utc_key(end)),
                                 scan_index_forward=not newest_first, **kwargs)

    def merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *, newest_first: bool,
                          limit: int | None = None, after: Key | None = None) -> tuple[list[Payment], Key | None]:
        if limit is None:
            return list(self.iter_merchant_payments(merchant_id, start, end, newest_first=newest_first)), None
        items, last = db.page(self._merchant_query(merchant_id, start, end, newest_first, limit=limit,
                                                   page_size=limit, last_evaluated_key=after), limit)
        return [payment_from_item(i) for i in items], last

    def iter_merchant_payments(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                               newest_first: bool) -> Iterator[Payment]:
        for item in self._merchant_query(merchant_id, start, end, newest_first):
            yield payment_from_item(item)

    def period_events(self, period_id: str, merchant_id: str | None = None) -> Iterator[LedgerEvent]:
        condition = LedgerItem.gsi3sk.startswith(merchant_id + "#") if merchant_id else None
        for item in LedgerItem.query(period_events_pk(period_id), index_name="gsi3", range_key_condition=condition):
            yield event_from_item(item)

    def ledger_snapshot(self) -> Iterator[Wallet | Grant | Payment | LedgerEvent]:
        for item in WalletItem.scan(WalletItem.sk == "WALLET"):
            yield wallet_from_item(item.pk.removeprefix("WALLET#"), item)
        for grant in GrantItem.scan(GrantItem.sk == "GRANT"):
            yield Grant(grant.grant_id, grant.consumer_id, grant.points, grant.expires_on)
        for ledger in LedgerItem.scan():
            if isinstance(ledger, PaymentItem):
                yield payment_from_item(ledger)
            else:
                yield event_from_item(ledger)

    # -- writes ---------------------------------------------------------------------------------
    def commit_payment(self, *, wallet: Wallet, lots: Sequence[Lot], swept_points: int, payment: Payment,
                       record: IdempotencyRecord) -> None:
        now = payment.completed_at
        tx = db.Transaction(token=payment.payment_id)  # DynamoDB de-duplicates an SDK retry of this attempt
        item, actions = _wallet_write(wallet, lots, swept_points, now)
        tx.update("wallet", item, actions, condition=_version_condition(wallet))
        tx.put("payment", payment_item(payment, record.key), condition=PaymentItem.pk.does_not_exist())
        tx.check("merchant", MerchantItem, merchant_pk(payment.merchant_id), "PROFILE",
                 condition=MerchantItem.status == ACTIVE)
        tx.put("idempotency", IdempotencyItem(
            idem_pk(record.consumer_id, record.key), "IDEM", fingerprint=record.fingerprint, status=record.status,
            response=record.response, payment_id=record.payment_id, created_at=record.created_at,
            ttl=now + IDEMPOTENCY_TTL,
        ), condition=IdempotencyItem.pk.does_not_exist())
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _cancelled(exc) from exc

    def commit_cancel(self, *, payment: Payment, wallet: Wallet, lots: Sequence[Lot], to_expired: int,
                      now: dt.datetime, by: str) -> None:
        tx = db.Transaction()
        tx.update("payment", PaymentItem(payment_pk(payment.payment_id), "PAYMENT"),
                  [PaymentItem.status.set("cancelled"), PaymentItem.cancelled_at.set(now),
                   PaymentItem.cancelled_by.set(by)],
                  condition=(PaymentItem.status == COMPLETED) & (PaymentItem.merchant_id == payment.merchant_id))
        tx.put("cancel", cancel_item(payment, now, by), condition=CancelItem.sk.does_not_exist())
        item, actions = _wallet_write(wallet, lots, to_expired, now)
        tx.update("wallet", item, actions, condition=_version_condition(wallet))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _cancelled(exc) from exc

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        tx = db.Transaction()
        tx.put("grant", GrantItem(grant_pk(grant.grant_id), "GRANT", grant_id=grant.grant_id,
                                  consumer_id=grant.consumer_id, points=grant.points, expires_on=grant.expires_on,
                                  expires_at=lot.expires_at, granted_at=now),
               condition=GrantItem.pk.does_not_exist())
        # A grant only appends a lot, so it needs no version condition; bumping the version makes a
        # payment planned on the wallet before the grant re-read it.
        tx.update("wallet", WalletItem(wallet_pk(grant.consumer_id), "WALLET"), [
            WalletItem.lots.set((WalletItem.lots | []).append([_lot_map(lot)])),
            WalletItem.consumer_id.set(grant.consumer_id),
            WalletItem.version.set((WalletItem.version | 0) + 1),
            WalletItem.expired_points.set(WalletItem.expired_points | 0),
            WalletItem.updated_at.set(now),
        ])
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _cancelled(exc) from exc
