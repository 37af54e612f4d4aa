"""The CLI's own parts, with no server: the command tree, usage errors, error text, files, the password.

Where a command needs an API, it is pointed at a port nobody listens on, so any request it makes
shows up as "cannot reach the API".
"""

from __future__ import annotations

import ast
import re
import socket
import subprocess
import sys
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chalicelib.core.clock import SystemClock, jst_date
from chalicelib.payments.commands import GrantRequest
from chalicelib.payments.grants import RowError, parse_bulk_csv
from cli.client import ApiClient, ApiError, CliError, Reply, api_error_from, check_api_url, quote
from cli.context import Session
from cli.files import read_csv_text
from cli.main import cli
from tests.cli.conftest import invoke

COMMANDS = {
    "merchants": ["register", "list", "suspend", "reactivate", "reset-password", "qr", "letter"],
    "stores": ["add", "list", "qr", "letter", "suspend", "reactivate"],
    "grants": ["add", "bulk"],
    "claims": ["create", "list", "codes", "letters"],
    "ledger": ["check"],
    "periods": ["list", "close", "report", "zengin"],
    "payouts": ["mark-paid", "mark-failed"],
    "audit": ["list", "export"],
}
UNREACHABLE = "cannot reach the API"
ROOT = Path(__file__).resolve().parents[2]
# What the CLI may take from chalicelib: the bulk file's rules and the JST date. Nothing else, so
# the CLI keeps speaking only HTTP and the services behind it can change freely.
ALLOWED_FROM_CHALICELIB = {
    *(("chalicelib.payments.grants", name) for name in ("parse_bulk_csv", "RowError")),
    ("chalicelib.payments.commands", "GrantRequest"),
    *(("chalicelib.core.clock", name) for name in ("SystemClock", "jst_date")),
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def nobody_url() -> str:
    """An http URL on a local port with nothing listening (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def offline(url: str, *args: str, password: str = "pw") -> Result:
    return invoke("--api", url, "--login-id", "someone", *args, password=password)


# -- the package -----------------------------------------------------------------------------------
def test_it_runs_as_python_dash_m_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: python -m cli [OPTIONS] COMMAND [ARGS]...")


def test_it_imports_from_chalicelib_only_the_bulk_file_rules_and_the_clock() -> None:
    imported: set[tuple[str, str]] = set()
    for path in (ROOT / "cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
                imported |= {(str(node.module), alias.name) for alias in node.names}
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("chalicelib") for a in node.names), path
    assert imported <= ALLOWED_FROM_CHALICELIB, imported - ALLOWED_FROM_CHALICELIB


# -- the command tree ------------------------------------------------------------------------------
def test_the_root_help_lists_the_groups_in_working_order_japanese_first() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].strip().splitlines()]
    assert listed == list(COMMANDS)
    assert "店舗の登録と管理 (merchants)" in result.stdout
    for option in ("--api", "--login-id", "ONAGAWA_API", "ONAGAWA_LOGIN_ID", "ONAGAWA_PASSWORD"):
        assert option in result.stdout
    assert "--password" not in result.stdout


@pytest.mark.parametrize(("group", "command"), [(g, c) for g, cs in COMMANDS.items() for c in cs])
def test_every_command_has_japanese_help_with_english_in_parentheses(group: str, command: str) -> None:
    result = invoke(group, command, "-h")
    assert result.exit_code == 0, result.output
    description = result.stdout.split("\n\n")[1].strip()
    japanese, _, english = description.partition(" (")
    assert JAPANESE.search(japanese) and english, description


def test_register_lists_every_option() -> None:
    help_text = invoke("merchants", "register", "--help").stdout
    for option in ("--name-ja", "--name-en", "--mcc", "--bank-code", "--branch-code", "--account-type [1|2|4]",
                   "--account-number", "--holder-kana", "--letter OUT.html", "--qr OUT.png"):
        assert option in help_text


# -- usage errors: exit 2, nothing sent ------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["grants", "add", "--consumer-id", "C1", "--expires-on", "2027-01-31"],                     # no --points
    ["grants", "add", "--consumer-id", "C1", "--points", "12.5", "--expires-on", "2027-01-31"],  # not an int
    ["merchants", "register", "--name-ja", "店", "--name-en", "SHOP", "--bank-code", "0001", "--branch-code", "001",
     "--account-type", "3", "--account-number", "1234567", "--holder-kana", "ｶﾅ"],               # no such type
    ["merchants", "qr", "M1"],                                                                      # neither format
    ["merchants", "qr", "M1", "--png", "a.png", "--svg", "a.svg"],                                  # both formats
    ["merchants", "letter", "M1"],                                                                  # no output file
    ["periods", "report", "2026-11-1"],                                                             # no output file
    ["payouts", "mark-paid", "2026-11-1"],                                                          # no merchant
    ["merchants", "delete", "M1"],                                                                  # no such command
    ["--password", "secret", "ledger", "check"],                                                    # never an option
])
def test_usage_errors_exit_2_without_calling_the_api(nobody_url: str, args: list[str]) -> None:
    result = offline(nobody_url, *args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr and UNREACHABLE not in result.output


def test_an_api_url_that_is_not_http_is_a_usage_error() -> None:
    result = invoke("--api", "file:///etc/passwd", "ledger", "check", password="pw")
    assert result.exit_code == 2
    assert "--api must be an http(s) URL" in result.stderr


# -- expected failures: one line, exit 1 -----------------------------------------------------------
def test_no_connection_prints_one_line_and_exits_1(nobody_url: str) -> None:
    result = offline(nobody_url, "ledger", "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー / error: APIに接続できません") and UNREACHABLE in result.stderr
    assert nobody_url in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_api_url_and_login_id_come_from_the_environment(nobody_url: str) -> None:
    result = invoke("ledger", "check", env={"ONAGAWA_API": nobody_url + "/", "ONAGAWA_LOGIN_ID": "someone",
                                            "ONAGAWA_PASSWORD": "pw"})
    assert result.exit_code == 1
    assert f"cannot reach the API at {nobody_url}:" in result.stderr  # it got as far as logging in


def test_without_a_login_id_it_says_how_to_give_one(nobody_url: str) -> None:
    result = invoke("--api", nobody_url, "ledger", "check", password="pw")
    assert result.exit_code == 1
    assert "--login-id" in result.stderr and "ONAGAWA_LOGIN_ID" in result.stderr


def test_without_the_variable_or_a_terminal_it_asks_for_the_variable(nobody_url: str) -> None:
    result = invoke("--api", nobody_url, "--login-id", "someone", "ledger", "check")  # the default password source
    assert result.exit_code == 1
    assert "ONAGAWA_PASSWORD" in result.stderr and "no terminal" in result.stderr


def test_an_interrupt_exits_130(nobody_url: str) -> None:
    def interrupted() -> str:
        raise KeyboardInterrupt

    result = CliRunner().invoke(cli, ["--api", nobody_url, "--login-id", "someone", "ledger", "check"],
                                obj=Session(password=interrupted), catch_exceptions=False)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_a_missing_bulk_file_is_an_error_before_anything_is_sent(nobody_url: str, tmp_path: Path) -> None:
    result = offline(nobody_url, "grants", "bulk", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1
    assert "ファイルを読めません" in result.stderr and "missing.csv" in result.stderr
    assert UNREACHABLE not in result.output


def test_a_bulk_file_with_only_bad_rows_sends_nothing(nobody_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("consumer_id,points,expires_on\r\n女川太郎,12.5,2027-06-30\r\nC-2,-1,2027-06-30\r\n"
                     .encode("cp932"))
    result = offline(nobody_url, "grants", "bulk", str(path))
    assert result.exit_code == 1
    assert "Shift_JIS" in result.stderr
    assert [line.split(" / ")[0] for line in result.stderr.splitlines() if line.startswith("行")] == ["行 2", "行 3"]
    assert "granted 0, already granted 0, errors 2" in result.stdout
    assert UNREACHABLE not in result.output


def test_a_bad_header_is_reported_on_line_1(nobody_url: str, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,amount,until\nC-1,100,2027-06-30\n", encoding="utf-8")
    result = offline(nobody_url, "grants", "bulk", str(path))
    assert result.exit_code == 1 and "行 1 / line 1" in result.stderr


# -- reading CSV files -----------------------------------------------------------------------------
def rows(text: str) -> list[GrantRequest | RowError]:
    return [item for _, item in parse_bulk_csv(text, today=jst_date(SystemClock().now()))]


def test_utf8_with_a_bom_is_read_as_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffconsumer_id,points,expires_on\r\n女川太郎,100,2030-01-31\r\n".encode())
    [row] = rows(read_csv_text(path))
    assert isinstance(row, GrantRequest) and (row.consumer_id, row.points) == ("女川太郎", 100)
    assert capsys.readouterr().err == ""


def test_shift_jis_is_read_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes("consumer_id,points,expires_on\r\n女川花子,200,2030-01-31\r\n".encode("cp932"))
    [row] = rows(read_csv_text(path))
    assert isinstance(row, GrantRequest) and row.consumer_id == "女川花子"
    assert "Shift_JIS" in capsys.readouterr().err


def test_bytes_that_are_neither_utf8_nor_shift_jis_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"consumer_id,points,expires_on\r\n\x81\x20,1,2030-01-31\r\n")
    with pytest.raises(CliError, match="neither UTF-8 nor Shift_JIS"):
        read_csv_text(path)


# -- the API's answers -----------------------------------------------------------------------------
def test_an_error_body_becomes_message_code_status_and_param() -> None:
    body = '{"error": {"code": "not_found", "message": "店舗が見つかりません。", "param": "merchant_id"}}'
    error = api_error_from(404, body.encode())
    assert (error.status, error.code, error.param) == (404, "not_found", "merchant_id")
    assert str(error) == "店舗が見つかりません。 (not_found, HTTP 404, param=merchant_id)"
    no_param = api_error_from(409, b'{"error": {"code": "already_cancelled", "message": "x", "param": null}}')
    assert str(no_param) == "x (already_cancelled, HTTP 409)"


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"message": "Forbidden"}', b"\xff\xfe", b""])
def test_a_body_without_the_error_shape_still_gives_one_line(body: bytes) -> None:
    error = api_error_from(502, body)
    assert isinstance(error, ApiError) and error.code == "http_error" and "HTTP 502" in str(error)
    assert "\n" not in str(error)


def test_a_reply_that_is_not_json_is_an_expected_failure() -> None:
    reply = Reply(200, Message(), b"<html></html>")
    with pytest.raises(CliError, match="did not answer JSON"):
        reply.json()


def test_a_replayed_reply_is_recognised_from_its_header() -> None:
    headers = Message()
    headers["Idempotent-Replayed"] = "true"
    headers["Content-Type"] = "text/html; charset=utf-8"
    reply = Reply(201, headers, b"{}")
    assert reply.replayed and reply.content_type == "text/html"
    assert not Reply(201, Message(), b"{}").replayed


def test_ids_stay_one_path_segment() -> None:
    assert quote("../M1?x=1#y") == "..%2FM1%3Fx%3D1%23y"


def test_the_api_url_must_be_http_and_loses_its_trailing_slash() -> None:
    assert check_api_url("https://api.example.jp/v/") == "https://api.example.jp/v"
    for bad in ("ftp://host", "127.0.0.1:8000", "http://"):
        with pytest.raises(CliError):
            check_api_url(bad)
    with pytest.raises(CliError):
        ApiClient("file:///tmp", "someone", lambda: "pw")
