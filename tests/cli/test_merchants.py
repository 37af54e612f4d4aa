"""``merchants``: register, list, suspend/reactivate, reset-password, qr, letter — checked through the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.commands import merchants as merchants_commands
from tests.cli.conftest import OperatorApi, OperatorCli, field

PNG = b"\x89PNG\r\n\x1a\n"


def test_register_prints_credentials_and_saves_letter_and_qr(run: OperatorCli, api: OperatorApi,
                                                              tmp_path: Path) -> None:
    # GIVEN an operator
    # WHEN a merchant is registered through the CLI with --letter and --qr
    result = run("merchants", "register", "--name-ja", "女川鮮魚店", "--name-en", "ONAGAWA FISH",
                 "--bank-code", "0001", "--branch-code", "002", "--account-type", "1",
                 "--account-number", "7654321", "--holder-kana", "オナガワセンギョテン",
                 "--letter", str(tmp_path / "letter.html"), "--qr", str(tmp_path / "qr.png"))
    # THEN it exits 0 and prints the merchant id, login id, initial password and QR payload
    assert result.exit_code == 0, result.output
    fields = {name: field(result.stdout, name) for name in ("merchant_id", "login_id", "initial_password",
                                                            "qr_payload")}
    # AND the API knows the merchant as printed
    merchant = api.merchant(fields["merchant_id"])
    assert (merchant["name_ja"], merchant["status"], merchant["login_id"]) == ("女川鮮魚店", "active",
                                                                               fields["login_id"])
    assert merchant["qr_payload"] == fields["qr_payload"]
    # AND the printed initial password logs in as that merchant
    status, login = api.login(fields["login_id"], fields["initial_password"])
    assert status == 200, login
    assert (login["role"], login["merchant_id"]) == ("merchant", fields["merchant_id"])
    # AND the letter (with the just-issued password on it) and the PNG were saved
    letter = (tmp_path / "letter.html").read_text(encoding="utf-8")
    assert "女川鮮魚店" in letter and fields["login_id"] in letter and fields["initial_password"] in letter
    assert (tmp_path / "qr.png").read_bytes().startswith(PNG)
    assert "saved" in result.stdout


def test_suspend_reactivate_list_qr_letter_and_reset_password(run: OperatorCli, api: OperatorApi,
                                                              tmp_path: Path) -> None:
    # GIVEN a merchant registered through the API
    reg = api.register_merchant()
    mid = reg["merchant_id"]

    # WHEN it is suspended, THEN the API shows it suspended
    result = run("merchants", "suspend", mid)
    assert result.exit_code == 0, result.output
    assert "merchant suspended" in result.stdout and field(result.stdout, "status") == "suspended"
    assert api.merchant(mid)["status"] == "suspended"
    # WHEN it is reactivated, THEN it is active again
    assert run("merchants", "reactivate", mid).exit_code == 0
    assert api.merchant(mid)["status"] == "active"

    # WHEN the merchants are listed, THEN its row and the count are printed
    result = run("merchants", "list")
    assert result.exit_code == 0, result.output
    assert re.search(rf"^{mid}\s+active\s+{re.escape(reg['login_id'])}\s+ONAGAWA SHOTEN\s+女川商店$",
                     result.stdout, re.M), result.stdout
    assert "1 店舗 / merchants" in result.stdout

    # WHEN its QR code and letter are saved
    assert run("merchants", "qr", mid, "--svg", str(tmp_path / "q.svg")).exit_code == 0
    assert run("merchants", "qr", mid, "--png", str(tmp_path / "nested" / "q.png")).exit_code == 0
    assert run("merchants", "letter", mid, str(tmp_path / "letter.html")).exit_code == 0
    # THEN the files are there (missing folders are created)
    assert b"<svg" in (tmp_path / "q.svg").read_bytes()
    assert (tmp_path / "nested" / "q.png").read_bytes().startswith(PNG)
    assert "女川商店" in (tmp_path / "letter.html").read_text(encoding="utf-8")

    # WHEN its password is reset, THEN the printed password logs in and the old one does not
    result = run("merchants", "reset-password", mid)
    assert result.exit_code == 0, result.output
    new_password = field(result.stdout, "initial_password")
    assert new_password != reg["initial_password"]
    status, login = api.login(reg["login_id"], new_password)
    assert (status, login["merchant_id"]) == (200, mid)
    assert api.login(reg["login_id"], reg["initial_password"])[0] == 401


def test_list_follows_the_cursor_over_pages(run: OperatorCli, api: OperatorApi,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN more merchants than fit on one page (a page of 2 here, 100 in use)
    monkeypatch.setattr(merchants_commands, "PAGE_SIZE", 2)
    ids = {api.register_merchant(name_ja=f"店{i}", name_en=f"SHOP {i}")["merchant_id"] for i in range(5)}
    # WHEN they are listed THEN every one is printed once, under one header
    result = run("merchants", "list")
    assert result.exit_code == 0, result.output
    listed = re.findall(r"^(M\S+)\s", result.stdout, re.M)
    assert sorted(listed) == sorted(ids)
    assert result.stdout.count("merchant_id") == 1
    assert "5 店舗 / merchants" in result.stdout
