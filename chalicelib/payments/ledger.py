"""The conservation check of SPEC §2 over the whole store.

    granted = Σ wallet balances + Σ points in sales not yet cancelled + Σ expired

Each term is computed from its own records (grants, wallets, payments), so a lost update, a
double debit or a refund that went missing shows up as a non-zero difference. The check reads
everything (an audit, not a request path) and streams it: memory holds per-kind sums only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from chalicelib.payments import records as r


@dataclasses.dataclass
class LedgerReport:
    granted: int = 0
    wallet_balances: int = 0
    expired: int = 0
    sales_outstanding: int = 0
    sales_total: int = 0
    cancelled_total: int = 0
    wallets: int = 0
    payments: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def difference(self) -> int:
        return self.granted - (self.wallet_balances + self.sales_outstanding + self.expired)

    @property
    def ok(self) -> bool:
        return self.difference == 0 and not self.problems


def check_conservation(items: Iterable[dict[str, Any]], now: dt.datetime) -> LedgerReport:
    report = LedgerReport()
    cancels: set[str] = set()
    cancelled_payments: set[str] = set()
    for item in items:
        sk = item.get("sk")
        pk = str(item.get("pk", ""))
        if sk == "GRANT":
            report.granted += int(item["points"])
        elif sk == r.WALLET_SK and pk.startswith("WALLET#"):
            wallet = r.wallet_from_item(pk.removeprefix("WALLET#"), item)
            report.wallets += 1
            report.wallet_balances += wallet.balance(now)
            report.expired += wallet.expired(now)
            if any(lot.points < 0 for lot in wallet.lots) or wallet.expired_points < 0:
                report.problems.append(f"negative lot in {pk}")
        elif sk == r.PAYMENT_SK:
            report.payments += 1
            amount = int(item["amount"])
            report.sales_total += amount
            if item["status"] == "completed":
                report.sales_outstanding += amount
            else:
                cancelled_payments.add(str(item["payment_id"]))
                report.cancelled_total += amount
            if sum(int(s["pts"]) for s in item.get("shares", [])) != amount:
                report.problems.append(f"payment {item['payment_id']} shares do not add up to its amount")
        elif sk == r.CANCEL_SK:
            cancels.add(str(item["payment_id"]))
    for missing in sorted(cancelled_payments - cancels):
        report.problems.append(f"payment {missing} is cancelled but has no cancellation record")
    for orphan in sorted(cancels - cancelled_payments):
        report.problems.append(f"cancellation of {orphan} but the payment is not cancelled")
    return report
