"""The conservation check of SPEC §2, run as a scheduled job that writes its report to the file store.

    granted = Σ wallet balances + Σ expired + Σ points in sales not yet cancelled

Each term comes from its own records, so an update lost on one side shows up as a difference:

- granted: the grant totals kept with every grant (one item per day and shard), plus the points of
  every claimed code (the claim totals kept with every claim: a claimed code is a grant);
- wallets: every wallet, read through the sparse keys-only index of wallets (never a table scan);
- outstanding sales: Σ sales − Σ cancellations of every period since the start, from the closed
  periods' records and, for the periods still open, from their running totals.

Unclaimed codes are a liability outside every wallet: the report lists, per claim-code batch, the
points issued, claimed and unclaimed (issued − claimed; expired unclaimed codes included), beside
the conservation check, which they do not enter until claimed.

Its cost is O(days + periods + merchants + batches) for the books and O(wallets) for the wallets, which must
each be read to be checked; it runs nightly outside any request. The API returns the last report;
a difference raises an alarm (metric ``LedgerDifference``).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from chalicelib.core.clock import Clock, jst_date, jst_iso
from chalicelib.core.periods import Period, period_of
from chalicelib.payments.repository import PaymentRepository
from chalicelib.settlement.model import CLOSED
from chalicelib.settlement.repository import SettlementRepository
from chalicelib.store.files import Files

LATEST_KEY = "ledger/latest.json"


class ClaimBatchLine(msgspec.Struct, kw_only=True):
    batch_id: str
    expires_on: str
    issued: int
    claimed: int
    unclaimed: int


class LedgerReport(msgspec.Struct, kw_only=True):
    checked_at: str  # JST
    ok: bool
    difference: int
    granted: int
    wallet_balances: int
    expired: int
    sales_outstanding: int
    wallets: int
    periods: int
    problems: list[str] = msgspec.field(default_factory=list)
    claimed: int = 0  # points of claimed codes (part of granted)
    claim_codes_issued: int = 0
    claim_codes_unclaimed: int = 0
    claim_batches: list[ClaimBatchLine] = msgspec.field(default_factory=list)


class LedgerService:
    def __init__(self, payments: PaymentRepository, settlement: SettlementRepository, files: Files, clock: Clock,
                 *, start: Period) -> None:
        self.payments = payments
        self.settlement = settlement
        self.files = files
        self.clock = clock
        self.start = start

    def outstanding_sales(self, now: dt.datetime) -> tuple[int, int]:
        """Σ sales − Σ cancellations over every period from the start to now, and how many periods."""
        closed = {r.period_id: r for r in self.settlement.periods(1000) if r.state == CLOSED}
        total = periods = 0
        period, current = self.start, period_of(now)
        while period <= current:
            record = closed.get(period.id)
            if record is not None:
                total += record.sales_points - record.cancel_points
            else:
                for counts in self.payments.period_counts(period.id).values():
                    total += counts.sales_points - counts.cancel_points
            periods += 1
            period = period.next()
        return total, periods

    def run(self) -> LedgerReport:
        now = self.clock.now()
        batches = [ClaimBatchLine(batch_id=b.batch_id, expires_on=b.expires_on.isoformat(), issued=b.issued_points,
                                  claimed=b.claimed_points, unclaimed=b.issued_points - b.claimed_points)
                   for b in self.payments.claim_batches()]
        claimed = sum(b.claimed for b in batches)
        granted = self.payments.granted_points() + claimed
        balances = expired = wallets = 0
        problems: list[str] = []
        for wallet in self.payments.wallets():
            wallets += 1
            balances += wallet.balance(now)
            expired += wallet.expired(now)
            if any(lot.points < 0 for lot in wallet.lots) or wallet.expired_points < 0:
                problems.append(f"negative lot in the wallet of {wallet.consumer_id}")
        outstanding, periods = self.outstanding_sales(now)
        difference = granted - (balances + expired + outstanding)
        report = LedgerReport(checked_at=jst_iso(now), ok=difference == 0 and not problems, difference=difference,
                              granted=granted, wallet_balances=balances, expired=expired,
                              sales_outstanding=outstanding, wallets=wallets, periods=periods,
                              problems=problems[:100], claimed=claimed,
                              claim_codes_issued=sum(b.issued for b in batches),
                              claim_codes_unclaimed=sum(b.unclaimed for b in batches), claim_batches=batches)
        body = msgspec.json.encode(report)
        stamp = now.strftime("%H%M%S")
        self.files.put(f"ledger/{jst_date(now).isoformat()}/{stamp}.json", body, "application/json")
        self.files.put(LATEST_KEY, body, "application/json")
        return report

    def latest(self) -> LedgerReport | None:
        body = self.files.get(LATEST_KEY)
        return msgspec.json.decode(body, type=LedgerReport) if body else None
