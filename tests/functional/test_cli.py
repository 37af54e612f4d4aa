"""The operator CLI, in-process, against the app served over real HTTP by chalice's local server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.core.clock import SystemClock
from devstack import cli
from tests.support.local_api import serve_app
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = ("cli-operator", "cli-operator-pass-123")
SUMMARY = re.compile(r"granted (\d+), already granted (\d+), errors (\d+)")


@pytest.fixture
def api_url(stack: Stack) -> Iterator[str]:
    """``chalice local``'s server for ``app`` on a free port, in a thread, using the stack's container."""
    with serve_app() as url:
        yield url


@pytest.fixture
def operator(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    for name in (cli.ENV_API, cli.ENV_LOGIN_ID, cli.ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)
    stack.container.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1],
                                    merchant_id=None, now=SystemClock().now())
    return OPERATOR


def run_cli(api_url: str, login: tuple[str, str], *args: str) -> int:
    return cli.main(["--api", api_url, "--login-id", login[0], *args], password=lambda: login[1])


def test_register_merchant_prints_credentials_and_saves_letter_and_qr(
        api_url: str, operator: tuple[str, str], stack: Stack, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an operator
    # WHEN a merchant is registered through the CLI with --letter and --qr
    code = run_cli(api_url, operator, "merchants", "register", "--name-ja", "女川鮮魚店", "--name-en", "ONAGAWA FISH",
                   "--bank-code", "0001", "--branch-code", "002", "--account-type", "1",
                   "--account-number", "7654321", "--holder-kana", "オナガワセンギョテン",
                   "--letter", str(tmp_path / "letter.html"), "--qr", str(tmp_path / "qr.png"))
    # THEN it exits 0 and prints the merchant id, login id, initial password and QR payload
    printed = capsys.readouterr().out
    assert code == 0, printed
    fields = dict(re.findall(r"^\s+(merchant_id|login_id|initial_password|qr_payload)\s+(.+)$", printed, re.M))
    assert set(fields) == {"merchant_id", "login_id", "initial_password", "qr_payload"}
    merchant = stack.container.merchants.get(fields["merchant_id"])
    assert (merchant.name_ja, merchant.status, merchant.login_id) == ("女川鮮魚店", "active", fields["login_id"])
    assert fields["qr_payload"] == stack.container.merchants.qr_payload(merchant)
    # AND the printed initial password logs in as that merchant
    result = stack.container.login.login(fields["login_id"], fields["initial_password"])
    assert result.merchant_id == fields["merchant_id"]
    # AND the letter and the PNG were saved
    letter = (tmp_path / "letter.html").read_text(encoding="utf-8")
    assert "女川鮮魚店" in letter and fields["login_id"] in letter
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_merchant_status_and_qr_commands(api_url: str, operator: tuple[str, str], stack: Stack, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    reg = stack.container.merchants.register(name_ja="女川商店", name_en="ONAGAWA SHOTEN", mcc=None, bank={
        "bank_code": "0001", "branch_code": "123", "account_type": 1, "account_number": "1234567",
        "holder_kana": "ｵﾅｶﾞﾜｼｮｳﾃﾝ"})
    mid = reg.merchant.merchant_id
    assert run_cli(api_url, operator, "merchants", "suspend", mid) == 0
    assert stack.container.merchants.get(mid).status == "suspended"
    assert run_cli(api_url, operator, "merchants", "reactivate", mid) == 0
    assert stack.container.merchants.get(mid).status == "active"
    assert run_cli(api_url, operator, "merchants", "list") == 0
    assert mid in capsys.readouterr().out
    assert run_cli(api_url, operator, "merchants", "qr", mid, "--svg", str(tmp_path / "q.svg")) == 0
    assert b"<svg" in (tmp_path / "q.svg").read_bytes()
    assert run_cli(api_url, operator, "merchants", "reset-password", mid) == 0
    new_password = re.search(r"initial_password\s+(\S+)", capsys.readouterr().out)
    assert new_password is not None
    assert stack.container.login.login(reg.merchant.login_id, new_password.group(1)).merchant_id == mid


def test_api_errors_print_the_japanese_message_and_code_and_exit_1(
        api_url: str, operator: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(api_url, operator, "merchants", "suspend", "MNOSUCHSHOP") == 1
    printed = capsys.readouterr()
    assert "店舗が見つかりません" in printed.err and "not_found" in printed.err
    assert "Traceback" not in printed.err + printed.out
    # a wrong password is the API's identical login error, not a stack trace
    assert run_cli(api_url, (OPERATOR[0], "wrong-password"), "merchants", "list") == 1
    printed = capsys.readouterr()
    assert "unauthenticated" in printed.err and "Traceback" not in printed.err


def grant_count(stack: Stack) -> int:
    return sum(1 for item in stack.all_items() if item.get("sk") == "GRANT")


def balance(stack: Stack, consumer_id: str) -> int:
    return stack.container.payments.wallet(consumer_id).balance(stack.container.clock.now())


BULK_CSV = (
    "consumer_id,points,expires_on\r\n"
    "C-0001,1000,2027-06-30\r\n"     # line 2
    "C-0002,2500,2027-06-30\r\n"     # line 3
    "C-0003,12.5,2027-06-30\r\n"     # line 4: bad points
    "C-0001,1000,2027-06-30\r\n"     # line 5: same content as line 2, a second grant on purpose
    "C-0004,300,2027-12-31\r\n"      # line 6
    "C-0005,400,2027-02-30\r\n"      # line 7: no such date
    "C-0005,700,2027-03-31\r\n"      # line 8
)


def test_bulk_csv_reports_bad_lines_grants_good_rows_and_a_rerun_grants_nothing_twice(
        api_url: str, operator: tuple[str, str], stack: Stack, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a file with 5 good rows and 2 bad rows
    path = tmp_path / "grants.csv"
    path.write_text(BULK_CSV, encoding="utf-8")
    # WHEN it is granted
    code = run_cli(api_url, operator, "grants", "bulk", str(path))
    printed = capsys.readouterr()
    # THEN the bad rows are reported with their line numbers and the run exits 1
    assert code == 1
    bad_lines = sorted(int(n) for n in re.findall(r"^行 (\d+)", printed.err, re.M))
    assert bad_lines == [4, 7]
    summary = SUMMARY.search(printed.out)
    assert summary is not None and summary.groups() == ("5", "0", "2"), printed.out
    # AND exactly the 5 good rows were written
    assert grant_count(stack) == 5
    expected = {"C-0001": 2000, "C-0002": 2500, "C-0003": 0, "C-0004": 300, "C-0005": 700}
    assert {cid: balance(stack, cid) for cid in expected} == expected

    # WHEN the same file is run again
    code = run_cli(api_url, operator, "grants", "bulk", str(path))
    printed = capsys.readouterr()
    # THEN nothing is granted twice: 0 new, 5 already granted, wallets unchanged
    assert code == 1
    summary = SUMMARY.search(printed.out)
    assert summary is not None and summary.groups() == ("0", "5", "2"), printed.out
    assert grant_count(stack) == 5
    assert {cid: balance(stack, cid) for cid in expected} == expected


def test_bulk_csv_without_errors_exits_0_and_a_new_batch_grants_again(
        api_url: str, operator: tuple[str, str], stack: Stack, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.csv"
    path.write_bytes("\ufeffconsumer_id,points,expires_on\nC-0100,150,2027-06-30\n".encode())
    assert run_cli(api_url, operator, "grants", "bulk", str(path)) == 0
    assert run_cli(api_url, operator, "grants", "bulk", str(path)) == 0
    assert balance(stack, "C-0100") == 150
    assert run_cli(api_url, operator, "grants", "bulk", str(path), "--batch", "second-campaign") == 0
    assert balance(stack, "C-0100") == 300
    summaries = [m.groups() for m in SUMMARY.finditer(capsys.readouterr().out)]
    assert summaries == [("1", "0", "0"), ("0", "1", "0"), ("1", "0", "0")]


def test_grants_add_is_idempotent_by_grant_id(api_url: str, operator: tuple[str, str], stack: Stack,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = ["grants", "add", "--consumer-id", "C-0200", "--points", "800", "--expires-on", "2027-06-30",
            "--grant-id", "G-CLI-1"]
    assert run_cli(api_url, operator, *args) == 0
    assert run_cli(api_url, operator, *args) == 0
    assert balance(stack, "C-0200") == 800
    assert "already granted" in capsys.readouterr().out
