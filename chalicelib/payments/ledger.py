"""The conservation check of SPEC §2 over the whole store.

    granted = Σ wallet balances + Σ points in sales not yet cancelled + Σ expired

Each term is computed from its own records (grants, wallets, payments), so a lost update, a
double debit or a refund that went missing shows up as a non-zero difference. The check reads
everything (an audit, not a request path) and streams it: memory holds per-kind sums only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from chalicelib.payments.model import COMPLETED, Grant, LedgerEvent, Payment
from chalicelib.payments.wallet import Wallet


class LedgerReport(msgspec.Struct):
    granted: int = 0
    wallet_balances: int = 0
    expired: int = 0
    sales_outstanding: int = 0
    sales_total: int = 0
    cancelled_total: int = 0
    wallets: int = 0
    payments: int = 0
    problems: list[str] = msgspec.field(default_factory=list)

    @property
    def difference(self) -> int:
        return self.granted - (self.wallet_balances + self.sales_outstanding + self.expired)

    @property
    def ok(self) -> bool:
        return self.difference == 0 and not self.problems


def check_conservation(records: Iterable[Wallet | Grant | Payment | LedgerEvent], now: dt.datetime) -> LedgerReport:
    report = LedgerReport()
    cancels: set[str] = set()
    cancelled_payments: set[str] = set()
    for record in records:
        if isinstance(record, Grant):
            report.granted += record.points
        elif isinstance(record, Wallet):
            report.wallets += 1
            report.wallet_balances += record.balance(now)
            report.expired += record.expired(now)
            if any(lot.points < 0 for lot in record.lots) or record.expired_points < 0:
                report.problems.append(f"negative lot in the wallet of {record.consumer_id}")
        elif isinstance(record, Payment):
            report.payments += 1
            report.sales_total += record.amount
            if record.status == COMPLETED:
                report.sales_outstanding += record.amount
            else:
                cancelled_payments.add(record.payment_id)
                report.cancelled_total += record.amount
            if sum(s.points for s in record.shares) != record.amount:
                report.problems.append(f"payment {record.payment_id} shares do not add up to its amount")
        elif record.kind == "cancel":
            cancels.add(record.payment_id)
    for missing in sorted(cancelled_payments - cancels):
        report.problems.append(f"payment {missing} is cancelled but has no cancellation record")
    for orphan in sorted(cancels - cancelled_payments):
        report.problems.append(f"cancellation of {orphan} but the payment is not cancelled")
    return report
