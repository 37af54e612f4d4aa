"""The DynamoDB implementation of :mod:`chalicelib.payments.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes.

A payment's transaction holds six items: the wallet (on its version), the payment (new), one shard
of the shop's till status (active), the idempotency record (new), one shard of the day's totals and
one of the period's. Shards are picked at random on every attempt, so concurrent payments to one shop
rarely touch the same item and a retry after a conflict most likely lands elsewhere.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.core.clock import jst_date, utc_key
from chalicelib.core.errors import WriteRejected
from chalicelib.merchants.model import ACTIVE
from chalicelib.payments.aggregates import DAY, AggregateKey, Counts, cancel_deltas, sale_deltas
from chalicelib.payments.model import (
    COMPLETED,
    ClaimBatch,
    ClaimCode,
    ClaimTries,
    Grant,
    IdempotencyRecord,
    LedgerEvent,
    Payment,
)
from chalicelib.payments.repository import IDEMPOTENCY_TTL, Key
from chalicelib.payments.wallet import Lot, Share, Wallet
from chalicelib.store import connection as db
from chalicelib.store.models import (
    AGG_SHARDS,
    CLAIM_BATCHES_INDEX_PK,
    CLAIMS_AGG_PK,
    GRANTS_AGG_PK,
    WALLET_INDEX_SHARDS,
    CancelItem,
    ClaimAggItem,
    ClaimBatchItem,
    ClaimCodeItem,
    ClaimTriesItem,
    ClaimUsedItem,
    DayAggItem,
    GrantAggItem,
    GrantItem,
    IdempotencyItem,
    LedgerItem,
    LotMap,
    PaymentItem,
    PeriodAggItem,
    TillItem,
    WalletItem,
    agg_pk,
    claim_agg_sk,
    claim_batch_pk,
    claim_pk,
    claim_tries_pk,
    claimed_index_pk,
    consumer_history_pk,
    day_agg_sk,
    events_pk,
    grant_pk,
    idem_pk,
    merchant_day_pk,
    payment_pk,
    period_agg_sk,
    period_aggs_pk,
    till_pk,
    till_sk,
    wallet_pk,
    wallets_index_pk,
)

COUNT_FIELDS = Counts.__struct_fields__


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
                   shares=tuple(Share(m.id, m.exp, m.pts) for m in item.shares or []),
                   store_id=item.store_id or item.merchant_id)


def payment_item(p: Payment, idempotency_key: str | None) -> PaymentItem:
    at = utc_key(p.completed_at)
    return PaymentItem(
        payment_pk(p.payment_id), "PAYMENT", payment_id=p.payment_id, merchant_id=p.merchant_id,
        store_id=p.store_id, consumer_id=p.consumer_id, amount=p.amount, status=p.status, completed_at=p.completed_at,
        name_ja=p.name_ja, name_en=p.name_en, shares=[_lot_map(s) for s in p.shares], idempotency_key=idempotency_key,
        gsi1pk=merchant_day_pk(p.merchant_id, jst_date(p.completed_at)), gsi1sk=f"{at}#{p.payment_id}",
        gsi2pk=consumer_history_pk(p.consumer_id), gsi2sk=f"{at}#{p.payment_id}",
        gsi3pk=events_pk(p.merchant_id), gsi3sk=f"{at}#{p.payment_id}#S",
    )


def cancel_item(p: Payment, cancelled_at: dt.datetime, by: str) -> CancelItem:
    return CancelItem(
        payment_pk(p.payment_id), "CANCEL", payment_id=p.payment_id, merchant_id=p.merchant_id,
        store_id=p.store_id, consumer_id=p.consumer_id, amount=p.amount, completed_at=p.completed_at,
        cancelled_at=cancelled_at, cancelled_by=by, gsi3pk=events_pk(p.merchant_id),
        gsi3sk=f"{utc_key(cancelled_at)}#{p.payment_id}#C",
    )


def event_from_item(item: LedgerItem) -> LedgerEvent:
    store = item.store_id or item.merchant_id
    if isinstance(item, CancelItem):
        return LedgerEvent("cancel", item.payment_id, item.merchant_id, item.amount, item.cancelled_at, store)
    return LedgerEvent("sale", item.payment_id, item.merchant_id, item.amount, item.completed_at, store)


def counts_of(item: DayAggItem | PeriodAggItem) -> Counts:
    return Counts(**{f: getattr(item, f) or 0 for f in COUNT_FIELDS})


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


def _append_lot(consumer_id: str, lot: Lot, now: dt.datetime) -> list[Action]:
    """Add a lot to the wallet (creating it). Appending needs no version condition; bumping the
    version makes a payment planned on the wallet before it re-read it."""
    return [
        WalletItem.lots.set((WalletItem.lots | []).append([_lot_map(lot)])),
        WalletItem.consumer_id.set(consumer_id),
        WalletItem.version.set((WalletItem.version | 0) + 1),
        WalletItem.expired_points.set(WalletItem.expired_points | 0),
        WalletItem.updated_at.set(now),
        # the sparse, keys-only index the ledger check lists wallets from (set once: no index write later)
        WalletItem.gsi4pk.set(WalletItem.gsi4pk | wallets_index_pk(consumer_id)),
        WalletItem.gsi4sk.set(WalletItem.gsi4sk | consumer_id),
    ]


def batch_from_item(item: ClaimBatchItem, claimed: tuple[int, int] = (0, 0)) -> ClaimBatch:
    return ClaimBatch(batch_id=item.batch_id, count=item.codes_count, points=item.points, expires_on=item.expires_on,
                      expires_at=item.expires_at, created_at=item.created_at, ready=item.state == "ready",
                      claimed_count=claimed[0], claimed_points=claimed[1])


def _version_condition(wallet: Wallet) -> Any:
    if wallet.version == 0:  # never written: it must still not exist (or be at version 0)
        return WalletItem.version.does_not_exist() | (WalletItem.version == 0)
    return WalletItem.version == wallet.version


def _add_totals(tx: db.Transaction, deltas: list[tuple[AggregateKey, Counts]]) -> None:
    """ADD each delta to one shard (any shard: totals only ever add up) of its total."""
    for n, (key, counts) in enumerate(deltas):
        shard = random.randrange(AGG_SHARDS)
        model: type[DayAggItem] | type[PeriodAggItem]
        if key.scope == DAY:
            model = DayAggItem
            item: DayAggItem | PeriodAggItem = DayAggItem(agg_pk(key.merchant_id),
                                                          day_agg_sk(key.bucket, key.store_id, shard))
            actions: list[Action] = [DayAggItem.day.set(key.bucket)]
        else:
            model = PeriodAggItem
            item = PeriodAggItem(agg_pk(key.merchant_id), period_agg_sk(key.bucket, key.store_id, shard))
            actions = [PeriodAggItem.period_id.set(key.bucket), PeriodAggItem.gsi1pk.set(period_aggs_pk(key.bucket)),
                       PeriodAggItem.gsi1sk.set(f"{key.merchant_id}#{key.store_id}#{shard}")]
        actions += [model.merchant_id.set(key.merchant_id), model.store_id.set(key.store_id)]
        actions += [getattr(model, f).add(getattr(counts, f)) for f in COUNT_FIELDS if getattr(counts, f)]
        tx.update(f"total{n}", item, actions)


def _store_condition(merchant_id: str, stores: frozenset[str] | None) -> Any:
    """A filter keeping the payments of these shops (None: no filter). A payment from before shops has
    no ``store_id``: it belongs to the default shop, whose id is the merchant id."""
    if stores is None:
        return None
    condition = PaymentItem.store_id.is_in(*sorted(stores))
    if merchant_id in stores:
        condition = condition | PaymentItem.store_id.does_not_exist()
    return condition


def _rejected(exc: db.TransactionCancelled) -> WriteRejected:
    return WriteRejected(exc.conditions)


def _page(results: Any, limit: int | None) -> tuple[list[Any], Key | None]:
    if limit is None:
        return list(results), None
    return db.page(results, limit)


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
                                                scan_index_forward=False, limit=limit, page_size=limit + 1,
                                                last_evaluated_key=after), limit)
        return [payment_from_item(i) for i in items], last

    def day_payments(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime, *,
                     newest_first: bool, limit: int | None = None, after: Key | None = None,
                     status: str | None = None, stores: frozenset[str] | None = None
                     ) -> tuple[list[Payment], Key | None]:
        # BETWEEN is inclusive and the range end exclusive: every sort key is "<stamp>#<id>", so the
        # bare stamp of the end instant sorts before any key at that instant and excludes it.
        kwargs: dict[str, Any] = {"last_evaluated_key": after}
        if limit is not None:
            kwargs.update(limit=limit, page_size=limit + 1)  # one more tells whether anything is left
        condition = _store_condition(merchant_id, stores)
        if status is not None:
            wanted = PaymentItem.status == status
            condition = wanted if condition is None else condition & wanted
        if condition is not None:
            kwargs["filter_condition"] = condition
        results = PaymentItem.query(merchant_day_pk(merchant_id, day), index_name="gsi1",
                                    range_key_condition=PaymentItem.gsi1sk.between(utc_key(start), utc_key(end)),
                                    scan_index_forward=not newest_first, **kwargs)
        items, last = _page(results, limit)
        return [payment_from_item(i) for i in items], last

    def span_counts(self, merchant_id: str, day: dt.date, start: dt.datetime, end: dt.datetime,
                    stores: frozenset[str] | None = None) -> Counts:
        counts = Counts()
        # only what is counted travels: fewer, smaller pages (read units are the same: DynamoDB
        # charges the whole items)
        for item in PaymentItem.query(merchant_day_pk(merchant_id, day), index_name="gsi1",
                                      range_key_condition=PaymentItem.gsi1sk.between(utc_key(start), utc_key(end)),
                                      filter_condition=_store_condition(merchant_id, stores),
                                      attributes_to_get=["kind", "amount", "status"]):
            counts.sales_count += 1
            counts.sales_points += item.amount
            if item.status != COMPLETED:
                counts.cancelled_count += 1
                counts.cancelled_points += item.amount
        return counts

    def day_counts(self, merchant_id: str, first: dt.date, last: dt.date, stores: frozenset[str] | None = None
                   ) -> dict[dt.date, Counts]:
        out: dict[dt.date, Counts] = {}
        condition = DayAggItem.sk.between(f"D#{first.isoformat()}", f"D#{last.isoformat()}#\uffff")
        for item in DayAggItem.query(agg_pk(merchant_id), range_key_condition=condition, consistent_read=True):
            if stores is not None and (item.store_id or merchant_id) not in stores:
                continue
            day = dt.date.fromisoformat(item.sk.split("#")[1])
            out.setdefault(day, Counts()).add(counts_of(item))
        return out

    def period_counts(self, period_id: str) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for item in PeriodAggItem.query(period_aggs_pk(period_id), index_name="gsi1"):
            out.setdefault(str(item.merchant_id), Counts()).add(counts_of(item))
        return out

    def merchant_events(self, merchant_id: str, start: dt.datetime, end: dt.datetime, *,
                        after: Key | None = None, limit: int | None = None) -> tuple[list[LedgerEvent], Key | None]:
        kwargs: dict[str, Any] = {"last_evaluated_key": after}
        if limit is not None:
            kwargs.update(limit=limit, page_size=limit + 1)
        results = LedgerItem.query(events_pk(merchant_id), index_name="gsi3",
                                   range_key_condition=LedgerItem.gsi3sk.between(utc_key(start), utc_key(end)),
                                   **kwargs)
        items, last = _page(results, limit)
        return [event_from_item(i) for i in items], last

    def merchant_events_since(self, merchant_id: str, start: dt.datetime, *, limit: int) -> list[LedgerEvent]:
        # One Query with Limit: the bare stamp sorts before every "<stamp>#<id>#S|C" at that instant.
        results = LedgerItem.query(events_pk(merchant_id), index_name="gsi3",
                                   range_key_condition=LedgerItem.gsi3sk >= utc_key(start),
                                   limit=limit, page_size=limit)
        return [event_from_item(i) for i in results]

    def granted_points(self) -> int:
        return sum(item.points or 0 for item in GrantAggItem.query(GRANTS_AGG_PK, consistent_read=True))

    def wallets(self) -> Iterator[Wallet]:
        for shard in range(WALLET_INDEX_SHARDS):
            keys = [(k.pk, k.sk) for k in WalletItem.query(f"WALLETS#{shard}", index_name="gsi4")]
            for start in range(0, len(keys), 100):
                for item in WalletItem.batch_get(keys[start:start + 100]):
                    yield wallet_from_item(item.pk.removeprefix("WALLET#"), item)

    # -- claim codes ----------------------------------------------------------------------------
    def _claim_totals(self, batch_id: str | None = None) -> dict[str, tuple[int, int]]:
        condition = ClaimAggItem.sk.startswith(f"B#{batch_id}#") if batch_id else None
        out: dict[str, tuple[int, int]] = {}
        for item in ClaimAggItem.query(CLAIMS_AGG_PK, range_key_condition=condition, consistent_read=True):
            count, points = out.get(item.batch_id or "", (0, 0))
            out[item.batch_id or ""] = (count + (item.claimed_count or 0), points + (item.claimed_points or 0))
        return out

    def claim_batch(self, batch_id: str) -> ClaimBatch | None:
        try:
            item = ClaimBatchItem.get(claim_batch_pk(batch_id), "BATCH", consistent_read=True)
        except ClaimBatchItem.DoesNotExist:
            return None
        return batch_from_item(item, self._claim_totals(batch_id).get(batch_id, (0, 0)))

    def claim_batches(self) -> list[ClaimBatch]:
        totals = self._claim_totals()
        return [batch_from_item(i, totals.get(i.batch_id, (0, 0)))
                for i in ClaimBatchItem.gsi1.query(CLAIM_BATCHES_INDEX_PK, scan_index_forward=False)]

    def claim_code(self, code_hash: str) -> ClaimCode | None:
        try:
            code = ClaimCodeItem.get(claim_pk(code_hash), "CODE", consistent_read=True)
        except ClaimCodeItem.DoesNotExist:
            return None
        try:
            used: ClaimUsedItem | None = ClaimUsedItem.get(claim_pk(code_hash), "USED", consistent_read=True)
        except ClaimUsedItem.DoesNotExist:
            used = None
        return ClaimCode(code_hash=code_hash, batch_id=code.batch_id, index=code.index, points=code.points,
                         expires_at=code.expires_at, claimed_by=used.consumer_id if used else None,
                         claimed_at=used.claimed_at if used else None)

    def claimed_codes(self, batch_id: str) -> list[ClaimCode]:
        return [ClaimCode(code_hash=i.pk.removeprefix("CLAIM#"), batch_id=i.batch_id, index=i.index, points=i.points,
                          expires_at=i.expires_at or i.claimed_at, claimed_by=i.consumer_id, claimed_at=i.claimed_at)
                for i in ClaimUsedItem.gsi1.query(claimed_index_pk(batch_id))]

    def claim_tries(self, consumer_id: str) -> ClaimTries:
        try:
            item = ClaimTriesItem.get(claim_tries_pk(consumer_id), "TRIES", consistent_read=True)
        except ClaimTriesItem.DoesNotExist:
            return ClaimTries()
        return ClaimTries(item.tries or 0, item.window_until)

    def start_claim_try(self, consumer_id: str, seen: ClaimTries, now: dt.datetime, window: dt.timedelta,
                        max_tries: int) -> bool:
        try:
            if seen.open_at(now):
                # one more try in the window we saw, while it has room
                db.update(ClaimTriesItem(claim_tries_pk(consumer_id), "TRIES"), [ClaimTriesItem.tries.add(1)],
                          condition=(ClaimTriesItem.window_until == seen.window_until)
                          & (ClaimTriesItem.tries < max_tries))
            else:
                # a new window, replacing only the record we saw (none, or one whose window was over)
                previous = (ClaimTriesItem.pk.does_not_exist() if seen.window_until is None
                            else ClaimTriesItem.window_until == seen.window_until)
                until = now + window
                db.save(ClaimTriesItem(claim_tries_pk(consumer_id), "TRIES", tries=1, window_until=until,
                                       ttl=until + dt.timedelta(days=1)), condition=previous)
        except db.ConditionFailed:
            return False
        return True

    def start_claim_batch(self, batch: ClaimBatch) -> bool:
        try:
            db.save(ClaimBatchItem(claim_batch_pk(batch.batch_id), "BATCH", batch_id=batch.batch_id,
                                   codes_count=batch.count, points=batch.points, expires_on=batch.expires_on,
                                   expires_at=batch.expires_at, created_at=batch.created_at, state="writing",
                                   gsi1sk=f"{utc_key(batch.created_at)}#{batch.batch_id}"),
                    condition=ClaimBatchItem.pk.does_not_exist())
        except db.ConditionFailed:
            return False
        return True

    def put_claim_codes(self, codes: Sequence[ClaimCode]) -> None:
        # BatchWriteItem, 25 a request (PynamoDB re-sends what DynamoDB leaves unprocessed). Unconditional,
        # which is safe: a code record's content is fixed by its hash, and its claim is another item.
        with ClaimCodeItem.batch_write() as batch:
            for c in codes:
                batch.save(ClaimCodeItem(claim_pk(c.code_hash), "CODE", batch_id=c.batch_id, index=c.index,
                                         points=c.points, expires_at=c.expires_at))

    def finish_claim_batch(self, batch_id: str) -> None:
        db.update(ClaimBatchItem(claim_batch_pk(batch_id), "BATCH"), [ClaimBatchItem.state.set("ready")],
                  condition=ClaimBatchItem.pk.exists())

    # -- writes ---------------------------------------------------------------------------------
    def commit_payment(self, *, wallet: Wallet, lots: Sequence[Lot], swept_points: int, payment: Payment,
                       record: IdempotencyRecord) -> None:
        now = payment.completed_at
        tx = db.Transaction(token=payment.payment_id)  # DynamoDB de-duplicates an SDK retry of this attempt
        item, actions = _wallet_write(wallet, lots, swept_points, now)
        tx.update("wallet", item, actions, condition=_version_condition(wallet))
        tx.put("payment", payment_item(payment, record.key), condition=PaymentItem.pk.does_not_exist())
        # One shard of the shop's status, not its profile: the profile would be in every payment of the
        # shop and concurrent transactions on one item conflict. A shard never written means a shop
        # registered before shards existed and never suspended since (suspension writes every shard).
        tx.check("merchant", TillItem, till_pk(payment.store_id), till_sk(random.randrange(AGG_SHARDS)),
                 condition=TillItem.status.does_not_exist() | (TillItem.status == ACTIVE))
        tx.put("idempotency", IdempotencyItem(
            idem_pk(record.consumer_id, record.key), "IDEM", fingerprint=record.fingerprint, status=record.status,
            response=record.response, payment_id=record.payment_id, created_at=record.created_at,
            ttl=now + IDEMPOTENCY_TTL,
        ), condition=IdempotencyItem.pk.does_not_exist())
        _add_totals(tx, sale_deltas(payment))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _rejected(exc) from exc

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
        _add_totals(tx, cancel_deltas(payment, now))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _rejected(exc) from exc

    def commit_grant(self, grant: Grant, lot: Lot, now: dt.datetime) -> None:
        tx = db.Transaction()
        tx.put("grant", GrantItem(grant_pk(grant.grant_id), "GRANT", grant_id=grant.grant_id,
                                  consumer_id=grant.consumer_id, points=grant.points, expires_on=grant.expires_on,
                                  expires_at=lot.expires_at, granted_at=now),
               condition=GrantItem.pk.does_not_exist())
        # A grant only appends a lot, so it needs no version condition; bumping the version makes a
        # payment planned on the wallet before the grant re-read it.
        tx.update("wallet", WalletItem(wallet_pk(grant.consumer_id), "WALLET"),
                  _append_lot(grant.consumer_id, lot, now))
        tx.update("total", GrantAggItem(GRANTS_AGG_PK, f"D#{jst_date(now).isoformat()}#{random.randrange(AGG_SHARDS)}"),
                  [GrantAggItem.grants_count.add(1), GrantAggItem.points.add(grant.points)])
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _rejected(exc) from exc

    def commit_claim(self, code: ClaimCode, consumer_id: str, lot: Lot, now: dt.datetime) -> None:
        tx = db.Transaction()
        # the code exists and is still claimable; its expiry is on the code record itself
        tx.check("code", ClaimCodeItem, claim_pk(code.code_hash), "CODE",
                 condition=ClaimCodeItem.pk.exists() & (ClaimCodeItem.expires_at >= now))
        tx.put("used", ClaimUsedItem(claim_pk(code.code_hash), "USED", batch_id=code.batch_id, index=code.index,
                                     points=code.points, consumer_id=consumer_id, claimed_at=now,
                                     expires_at=code.expires_at,
                                     gsi1pk=claimed_index_pk(code.batch_id), gsi1sk=f"{code.index:06d}"),
               condition=ClaimUsedItem.pk.does_not_exist())
        tx.update("wallet", WalletItem(wallet_pk(consumer_id), "WALLET"), _append_lot(consumer_id, lot, now))
        tx.update("total", ClaimAggItem(CLAIMS_AGG_PK, claim_agg_sk(code.batch_id, random.randrange(AGG_SHARDS))),
                  [ClaimAggItem.batch_id.set(code.batch_id), ClaimAggItem.claimed_count.add(1),
                   ClaimAggItem.claimed_points.add(code.points)])
        # a successful claim gives back the try reserved for it: only failures use up the allowance
        tx.update("tries", ClaimTriesItem(claim_tries_pk(consumer_id), "TRIES"), [ClaimTriesItem.tries.add(-1)],
                  condition=ClaimTriesItem.tries > 0)
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise _rejected(exc) from exc
