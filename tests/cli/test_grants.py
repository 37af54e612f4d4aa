"""``grants``: one grant, a bulk file with bad rows, re-runs that grant nothing twice — checked through the API."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import OperatorApi, OperatorCli, field

SUMMARY = re.compile(r"granted (\d+), already granted (\d+), errors (\d+)")

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
EXPECTED = {"C-0001": 2000, "C-0002": 2500, "C-0003": 0, "C-0004": 300, "C-0005": 700}


def summary(output: str) -> tuple[str, ...]:
    match = SUMMARY.search(output)
    assert match is not None, output
    return match.groups()


def test_bulk_reports_bad_lines_grants_good_rows_and_a_rerun_grants_nothing_twice(
        run: OperatorCli, api: OperatorApi, tmp_path: Path) -> None:
    # GIVEN a file with 5 good rows and 2 bad rows
    path = tmp_path / "grants.csv"
    path.write_text(BULK_CSV, encoding="utf-8", newline="")
    # WHEN it is granted
    result = run("grants", "bulk", str(path))
    # THEN the bad rows are reported on stderr with their line numbers and the run exits 1
    assert result.exit_code == 1
    assert sorted(int(n) for n in re.findall(r"^行 (\d+)", result.stderr, re.M)) == [4, 7]
    assert "2 bad row(s) will not be granted" in result.stderr
    # AND the summary (on stdout, apart from the progress bar on stderr) counts 5 granted
    assert summary(result.stdout) == ("5", "0", "2")
    assert "付与 / granting" in result.stderr and "付与 / granting" not in result.stdout
    # AND the API shows exactly the 5 good rows granted
    assert api.granted_points() == 5500
    assert {cid: api.balance(cid) for cid in EXPECTED} == EXPECTED

    # WHEN the same file is run again
    result = run("grants", "bulk", str(path))
    # THEN nothing is granted twice: 0 new, 5 already granted, wallets unchanged
    assert result.exit_code == 1
    assert summary(result.stdout) == ("0", "5", "2")
    assert "--batch" in result.stdout
    assert api.granted_points() == 5500
    assert {cid: api.balance(cid) for cid in EXPECTED} == EXPECTED


def test_bulk_without_errors_exits_0_and_a_new_batch_grants_again(run: OperatorCli, api: OperatorApi,
                                                                  tmp_path: Path) -> None:
    # GIVEN a clean file saved by Excel as "CSV UTF-8" (with a BOM, LF line ends)
    path = tmp_path / "clean.csv"
    path.write_bytes("\ufeffconsumer_id,points,expires_on\nC-0100,150,2027-06-30\n".encode())
    # WHEN it is run twice and then once more as a new distribution
    results = [run("grants", "bulk", str(path)), run("grants", "bulk", str(path)),
               run("grants", "bulk", str(path), "--batch", "second-campaign")]
    # THEN each run exits 0; the second grants nothing, the new batch grants again
    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    assert [summary(r.stdout) for r in results] == [("1", "0", "0"), ("0", "1", "0"), ("1", "0", "0")]
    assert api.balance("C-0100") == 300


def test_bulk_reads_a_shift_jis_file(run: OperatorCli, api: OperatorApi, tmp_path: Path) -> None:
    # GIVEN a file saved by Excel as plain "CSV" on Japanese Windows (Shift_JIS), Japanese consumer ids
    path = tmp_path / "sjis.csv"
    path.write_bytes("consumer_id,points,expires_on\r\n女川太郎,500,2027-06-30\r\n".encode("cp932"))
    # WHEN it is granted THEN it says it read Shift_JIS and the consumer has the points
    result = run("grants", "bulk", str(path))
    assert result.exit_code == 0, result.output
    assert "Shift_JIS" in result.stderr
    assert summary(result.stdout) == ("1", "0", "0")
    assert api.balance("女川太郎") == 500


def test_grants_add_is_idempotent_by_grant_id(run: OperatorCli, api: OperatorApi) -> None:
    args = ("grants", "add", "--consumer-id", "C-0200", "--points", "800", "--expires-on", "2027-06-30",
            "--grant-id", "G-CLI-1")
    first, second = run(*args), run(*args)
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "points granted" in first.stdout and field(first.stdout, "points") == "800"
    assert "already granted" in second.stdout and field(second.stdout, "grant_id") == "G-CLI-1"
    assert api.balance("C-0200") == 800


def test_grants_add_refused_by_the_api_prints_its_message_and_exits_1(run: OperatorCli,
                                                                      api: OperatorApi) -> None:
    # WHEN the expiry date is already past
    result = run("grants", "add", "--consumer-id", "C-0300", "--points", "800", "--expires-on", "2020-01-31")
    # THEN the API's Japanese message and its code are printed, nothing is granted
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー / error: ") and "invalid_request" in result.stderr
    assert "HTTP 400" in result.stderr and "param=expires_on" in result.stderr
    assert api.balance("C-0300") == 0
