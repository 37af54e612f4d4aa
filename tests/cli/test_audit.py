"""``audit list`` and ``audit export``: the operator reads the audit log over HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import OperatorApi, OperatorCli


def test_audit_list_and_export(run: OperatorCli, api: OperatorApi, tmp_path: Path) -> None:
    # GIVEN a merchant registered and suspended by the operator
    mid = api.register_merchant("監査商店", "AUDIT SHOP")["merchant_id"]
    assert run("merchants", "suspend", mid).exit_code == 0
    # WHEN the operator lists the log
    listed = run("audit", "list", "--limit", "20")
    # THEN each entry shows when, what, who, where from and the target (the fixed clock of this stack
    # gives them all one time, so their order is not checked here: test_staff_access does)
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["at", "action", "actor", "merchant"]
    suspend = next(line for line in lines if "merchant_suspend" in line)
    assert any("merchant_register" in line for line in lines)
    assert mid in suspend and "127.0.0.1" in suspend and "+09:00" in suspend
    assert run("audit", "list", "--limit", "1").stdout.strip().endswith("1 件 / entries")
    # AND the CSV holds the same, with a BOM and CRLF
    target = tmp_path / "audit.csv"
    saved = run("audit", "export", str(target))
    assert saved.exit_code == 0, saved.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("utf-8-sig")
    assert "merchant_suspend" in text and "利用停止" in text and mid in text
