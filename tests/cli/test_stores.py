"""``stores``: add, list, qr, letter, suspend/reactivate a merchant's shops — checked through the API."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import OperatorApi, OperatorCli, field

PNG = b"\x89PNG\r\n\x1a\n"


def test_add_list_qr_letter_suspend_and_reactivate_a_shop(run: OperatorCli, api: OperatorApi,
                                                          tmp_path: Path) -> None:
    # GIVEN a merchant registered through the API
    mid = api.register_merchant()["merchant_id"]
    # WHEN a shop is added through the CLI with --letter and --qr
    result = run("stores", "add", mid, "--name-ja", "女川商店 駅前店", "--name-en", "ONAGAWA EKIMAE",
                 "--letter", str(tmp_path / "letter.html"), "--qr", str(tmp_path / "qr.png"))
    # THEN it exits 0 and prints the new shop's id and QR payload
    assert result.exit_code == 0, result.output
    sid = field(result.stdout, "store_id")
    assert sid != mid and field(result.stdout, "merchant_id") == mid
    # AND the API lists it after the default shop, with the printed QR payload
    listed = api.ok("GET", f"/v1/admin/merchants/{mid}/stores")["items"]
    assert [s["store_id"] for s in listed] == [mid, sid]
    assert listed[1]["qr_payload"] == field(result.stdout, "qr_payload")
    # AND the letter and the PNG were saved
    assert "女川商店 駅前店" in (tmp_path / "letter.html").read_text(encoding="utf-8")
    assert (tmp_path / "qr.png").read_bytes().startswith(PNG)

    # WHEN the shops are listed, THEN both rows and the count are printed
    result = run("stores", "list", mid)
    assert result.exit_code == 0, result.output
    assert sid in result.stdout and "ONAGAWA EKIMAE" in result.stdout and "2 店舗 / shops" in result.stdout
    # WHEN its QR is saved as SVG and its letter again, THEN the files are written
    assert run("stores", "qr", mid, sid, "--svg", str(tmp_path / "qr.svg")).exit_code == 0
    assert b"<svg" in (tmp_path / "qr.svg").read_bytes()
    assert run("stores", "letter", mid, sid, str(tmp_path / "again.html")).exit_code == 0
    # WHEN it is suspended and reactivated, THEN the API shows each status
    assert run("stores", "suspend", mid, sid).exit_code == 0
    assert api.ok("GET", f"/v1/admin/merchants/{mid}/stores")["items"][1]["status"] == "suspended"
    assert run("stores", "reactivate", mid, sid).exit_code == 0
    assert api.ok("GET", f"/v1/admin/merchants/{mid}/stores")["items"][1]["status"] == "active"


def test_an_unknown_merchant_prints_the_api_error_and_exits_1(run: OperatorCli) -> None:
    result = run("stores", "add", "M-NOPE", "--name-ja", "店", "--name-en", "SHOP")
    assert result.exit_code == 1 and "not_found" in result.output
    result = run("stores", "qr", "M-NOPE", "M-NOPE")
    assert result.exit_code == 2  # neither --png nor --svg: a usage error
