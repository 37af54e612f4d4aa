"""The scheduled jobs, as the schedules (and ``make run``'s local scheduler) call them.

Each publishes a metric every time it runs (``SettlementCloseRuns``, ``LedgerCheckRuns``): an alarm on
the metric's absence catches a job that stopped running, not only one that failed. The ledger job
also publishes ``LedgerDifference`` (the absolute difference in points), alarmed above zero.
"""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.http.logs import logger, publish_metric
from chalicelib.settlement.closing import CloseResult
from chalicelib.settlement.ledger import LedgerReport


def close_settlement_periods() -> list[CloseResult]:
    results = bootstrap.container().closing.close_due()
    logger.info("settlement close", extra={"closed": [r.period_id for r in results]})
    publish_metric("SettlementCloseRuns", 1)
    return results


def run_ledger_check() -> LedgerReport:
    report = bootstrap.container().ledger.run()
    log = logger.info if report.ok else logger.error
    log("ledger check", extra={"ok": report.ok, "difference": report.difference, "problems": report.problems[:10]})
    publish_metric("LedgerCheckRuns", 1)
    publish_metric("LedgerDifference", abs(report.difference))
    return report
