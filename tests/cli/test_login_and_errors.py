"""Logging in (password from the environment or a hidden prompt) and the API's errors, over real HTTP."""

from __future__ import annotations

import pytest

from cli import context
from tests.cli.conftest import OperatorApi, OperatorCli, invoke


def test_api_errors_print_the_japanese_message_and_code_and_exit_1(run: OperatorCli) -> None:
    result = run("merchants", "suspend", "MNOSUCHSHOP")
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー / error: ")
    assert "店舗が見つかりません" in result.stderr and "not_found" in result.stderr and "HTTP 404" in result.stderr
    assert result.stdout == ""


def test_the_api_validation_message_names_the_field(run: OperatorCli, api: OperatorApi) -> None:
    result = run("merchants", "register", "--name-ja", "女川鮮魚店", "--name-en", "ONAGAWA FISH",
                 "--bank-code", "01", "--branch-code", "002", "--account-type", "1",
                 "--account-number", "7654321", "--holder-kana", "オナガワセンギョテン")
    assert result.exit_code == 1
    assert "invalid_request" in result.stderr and "bank_code" in result.stderr
    assert api.ok("GET", "/v1/admin/merchants")["items"] == []


def test_a_wrong_password_is_the_apis_login_error(run: OperatorCli) -> None:
    result = run("merchants", "list", password="wrong-password")
    assert result.exit_code == 1
    assert "unauthenticated" in result.stderr and "HTTP 401" in result.stderr
    assert result.stdout == ""


def test_a_merchant_account_is_refused(api_url: str, api: OperatorApi) -> None:
    reg = api.register_merchant()
    result = invoke("--api", api_url, "--login-id", reg["login_id"], "merchants", "list",
                    password=reg["initial_password"])
    assert result.exit_code == 1
    assert "is not an operator account" in result.stderr and "'merchant'" in result.stderr


def test_api_login_id_and_password_come_from_the_environment(api_url: str, operator: tuple[str, str]) -> None:
    result = invoke("merchants", "list", env={"ONAGAWA_API": api_url, "ONAGAWA_LOGIN_ID": operator[0],
                                              "ONAGAWA_PASSWORD": operator[1]})
    assert result.exit_code == 0, result.output
    assert "0 店舗 / merchants" in result.stdout


def test_without_the_variable_the_password_is_asked_for_and_not_echoed(
        api_url: str, operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "stdin_is_terminal", lambda: True)
    result = invoke("--api", api_url, "--login-id", operator[0], "merchants", "list", input=operator[1] + "\n")
    assert result.exit_code == 0, result.output
    assert "パスワード / password" in result.stderr
    assert operator[1] not in result.output
