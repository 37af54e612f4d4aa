"""``periods``, ``payouts`` and ``ledger``: close a period with sales, save its files, mark the bank's answer.

The stack here starts settlement at 2026-11-1 and has a clock the test moves: sales on 10 November,
then the period is closed on the 20th. Everything else goes through the CLI and the HTTP API.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.core.clock import JST, FixedClock
from tests.cli.conftest import OperatorApi, OperatorCli, field
from tests.support.stack import Stack, build_stack

PERIOD = "2026-11-1"
ZENGIN_RECORD = 122  # 120 bytes + CRLF


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at("2026-11-10 12:00"))


@pytest.fixture
def stack(engine: Any, keys_dir: Path, clock: FixedClock) -> Iterator[Stack]:
    """Overrides the shared stack: settlement starts at PERIOD and the clock is this module's."""
    s = build_stack(engine, keys_dir, clock=clock, extra_env={"SETTLEMENT_START_PERIOD": PERIOD})
    yield s
    bootstrap.override(None)


def period_line(output: str, period_id: str) -> str:
    match = re.search(rf"^\s+{re.escape(period_id)}\s.*$", output, re.M)
    assert match is not None, output
    return match.group(0)


def test_close_report_zengin_mark_and_ledger_check(run: OperatorCli, api: OperatorApi, clock: FixedClock,
                                                   tmp_path: Path) -> None:
    # GIVEN two shops that sold 1,200 and 800 points on 10 November (period 2026-11-1)
    assert run("grants", "add", "--consumer-id", "C-SETTLE", "--points", "5000",
               "--expires-on", "2027-06-30").exit_code == 0
    shop_a = api.register_merchant("女川鮮魚店", "ONAGAWA FISH")["merchant_id"]
    shop_b = api.register_merchant("女川商店", "ONAGAWA SHOTEN")["merchant_id"]
    api.pay("C-SETTLE", shop_a, 1200)
    api.pay("C-SETTLE", shop_b, 800)
    # AND the period is too early to close while it is still running
    early = run("periods", "close", PERIOD)
    assert early.exit_code == 1 and "まだ締められません" in early.stderr and "HTTP 409" in early.stderr

    # WHEN it is 20 November
    clock.set(at("2026-11-20 12:00"))
    listed = run("periods", "list")
    # THEN the period is listed as due, with its transfer date
    assert listed.exit_code == 0, listed.output
    assert re.search(r"\bdue\b.*振込予定日 2026-11-30", period_line(listed.stdout, PERIOD))

    # WHEN it is closed, twice
    first, again = run("periods", "close", PERIOD), run("periods", "close", PERIOD)
    # THEN the first closes it with two payouts, the second changes nothing
    assert (first.exit_code, again.exit_code) == (0, 0), first.output + again.output
    assert "period closed" in first.stdout and "already closed" in again.stdout
    assert (field(first.stdout, "payouts"), field(first.stdout, "total")) == ("2", "2,000")
    assert re.search(r"\bclosed\b.*\b2 件\s+2,000 円", period_line(run("periods", "list").stdout, PERIOD))

    # WHEN the report and the Zengin file are saved
    report = run("periods", "report", PERIOD, str(tmp_path / "report.csv"))
    zengin = run("periods", "zengin", PERIOD, str(tmp_path / "zengin.txt"))
    # THEN the report names both shops and the Zengin file has header, 2 data, trailer and end records
    assert (report.exit_code, zengin.exit_code) == (0, 0), report.output + zengin.output
    report_text = (tmp_path / "report.csv").read_bytes().decode("utf-8-sig")
    assert shop_a in report_text and shop_b in report_text
    data = (tmp_path / "zengin.txt").read_bytes()
    assert len(data) == 5 * ZENGIN_RECORD and [data[i] for i in range(0, len(data), ZENGIN_RECORD)] == list(b"12289")
    assert "exported" in zengin.stdout
    assert payout_statuses(api) == {shop_a: "exported", shop_b: "exported"}

    # WHEN the bank paid shop A and refused shop B
    paid = run("payouts", "mark-paid", PERIOD, shop_a)
    failed = run("payouts", "mark-failed", PERIOD, shop_b)
    # THEN the payouts say so
    assert (paid.exit_code, failed.exit_code) == (0, 0), paid.output + failed.output
    assert (field(paid.stdout, "status"), field(paid.stdout, "amount")) == ("paid", "1,200")
    assert field(failed.stdout, "status") == "failed"
    assert payout_statuses(api) == {shop_a: "paid", shop_b: "failed"}
    # AND a paid payout cannot be marked again: the API's conflict, exit 1
    twice = run("payouts", "mark-paid", PERIOD, shop_a)
    assert twice.exit_code == 1 and "HTTP 409" in twice.stderr and "Traceback" not in twice.output

    # WHEN the ledger is checked THEN it balances: 5,000 granted = 3,000 in the wallet + 2,000 sold
    check = run("ledger", "check", "--now")
    assert check.exit_code == 0, check.output
    assert (field(check.stdout, "granted"), field(check.stdout, "wallet_balances"),
            field(check.stdout, "difference")) == ("5000", "3000", "0")
    assert "the ledger balances" in check.stdout


def payout_statuses(api: OperatorApi) -> dict[str, str]:
    return {p["merchant_id"]: p["status"] for p in api.ok("GET", f"/v1/admin/periods/{PERIOD}/payouts")["items"]}


def test_zengin_of_an_open_period_and_an_unknown_payout_are_refused(run: OperatorCli, tmp_path: Path) -> None:
    result = run("periods", "zengin", PERIOD, str(tmp_path / "z.txt"))
    assert result.exit_code == 1 and "締めの済んでいない期間です" in result.stderr
    assert not (tmp_path / "z.txt").exists()
    result = run("payouts", "mark-failed", PERIOD, "MNOSUCHSHOP")
    assert result.exit_code == 1 and "not_found" in result.stderr
