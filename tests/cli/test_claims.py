"""``claims``: issue a batch, list it, save its CSV and letters; a claim shows in the list — through the API."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.cli.conftest import OperatorApi, OperatorCli, field


def test_create_list_codes_and_letters(run: OperatorCli, api: OperatorApi, tmp_path: Path) -> None:
    # WHEN the operator issues 3 codes of 700 points
    created = run("claims", "create", "--count", "3", "--points", "700", "--expires-on", "2027-03-31",
                  "--batch-id", "CLI-BATCH")
    assert created.exit_code == 0, created.output
    assert field(created.output, "batch_id") == "CLI-BATCH" and field(created.output, "count") == "3"
    # AND sends the same again: nothing new
    again = run("claims", "create", "--count", "3", "--points", "700", "--expires-on", "2027-03-31",
                "--batch-id", "CLI-BATCH")
    assert again.exit_code == 0 and "already issued" in again.output
    # AND other content under that id is refused with the API's code
    other = run("claims", "create", "--count", "4", "--points", "700", "--expires-on", "2027-03-31",
                "--batch-id", "CLI-BATCH")
    assert other.exit_code == 1 and "idempotency_key_reused" in other.stderr
    # THEN its CSV holds the three codes, unused
    out = tmp_path / "codes.csv"
    saved = run("claims", "codes", "CLI-BATCH", "--out", str(out))
    assert saved.exit_code == 0, saved.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0][1] == "受取コード" and len(rows) == 4
    codes = [r[1] for r in rows[1:]]
    assert all(re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", c) for c in codes)
    assert {r[4] for r in rows[1:]} == {"未使用"}
    # AND a consumer claims one: the list shows it
    status, reply = api.consumer("POST", "/v1/wallet/claims", "C-CLI", {"code": codes[0]})
    assert status == 201 and reply["balance"] == 700
    listed = run("claims", "list")
    assert listed.exit_code == 0
    assert re.search(r"CLI-BATCH\s+3 件 ×\s+700 pt\s+有効期限 2027-03-31\s+受取済み 1 件 700 pt\s+未受取 1,400 pt",
                     listed.output), listed.output
    # AND the letters file has a page per code
    letters = tmp_path / "letters.html"
    saved_letters = run("claims", "letters", "CLI-BATCH", "--out", str(letters))
    assert saved_letters.exit_code == 0, saved_letters.output
    html = letters.read_text(encoding="utf-8")
    assert html.count('<section class="letter">') == 3 and all(c in html for c in codes)
    # AND the ledger check lists the batch
    check = run("ledger", "check", "--now")
    assert check.exit_code == 0 and "受取コード CLI-BATCH: 発行 2,100 / 受取済み 700 / 未受取 1,400" in check.output


def test_unknown_batch_and_bad_values_exit_1(run: OperatorCli) -> None:
    missing = run("claims", "codes", "NOPE")
    assert missing.exit_code == 1 and "not_found" in missing.stderr
    bad = run("claims", "create", "--count", "0", "--points", "700", "--expires-on", "2027-03-31")
    assert bad.exit_code == 1 and "invalid_request" in bad.stderr
    usage = run("claims", "create", "--count", "x", "--points", "700", "--expires-on", "2027-03-31")
    assert usage.exit_code == 2
