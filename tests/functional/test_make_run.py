"""``make run`` for real: ``python -m devstack.run`` as a child process, exercised over HTTP, then Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devstack import run
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    # Nothing accepts connections, and a server could bind it again (as ours do, with SO_REUSEADDR).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for_ready(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if run.READY_MARKER in text:
            return text
        if proc.poll() is not None:
            pytest.fail(f"devstack.run exited with {proc.returncode} before it was ready:\n{text}")
        time.sleep(0.2)
    pytest.fail(f"devstack.run was not ready within {READY_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


@pytest.mark.slow
def test_make_run_seeds_the_demo_serves_it_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    # GIVEN free ports, so a developer's own `make run` is not disturbed
    api_port, engine_port = free_port(), free_port()
    env = {**os.environ, run.API_PORT_ENV: str(api_port), run.ENGINE_PORT_ENV: str(engine_port),
           run.STATE_DIR_ENV: str(tmp_path / "state")}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # WHEN it says it is ready
        banner = wait_for_ready(proc, log)
        base = f"http://127.0.0.1:{api_port}"
        # THEN it printed the URLs and the demo credentials
        for text in (f"{base}/v1/openapi.json", f"{base}/console/", f"{base}/pay/", f"{base}/admin/",
                     "demo-operator / demo-operator-pass", "demo-shop / demo-shop-pass", "DEMO-CONSUMER",
                     f"{base}/v1/dev/token"):
            assert text in banner, text
        # AND the demo operator and merchant can log in
        status, body = call("POST", f"{base}/v1/auth/login",
                            {"login_id": "demo-operator", "password": "demo-operator-pass"})
        assert (status, body["role"]) == (200, "operator")
        status, body = call("POST", f"{base}/v1/auth/login", {"login_id": "demo-shop", "password": "demo-shop-pass"})
        assert (status, body["role"], body["merchant_id"]) == (200, "merchant", "MDEMOSHOP1")
        # AND the demo consumer holds 10,000 points
        status, body = call("POST", f"{base}/v1/dev/token", {"consumer_id": "DEMO-CONSUMER"})
        assert status == 200
        status, wallet = call("GET", f"{base}/v1/wallet", token=body["token"])
        assert (status, wallet["balance"]) == (200, 10000)
        # AND an unknown route is our JSON 404
        status, body = call("GET", f"{base}/v1/no-such-route")
        assert (status, body["error"]["code"]) == (404, "not_found")

        # WHEN Ctrl-C arrives
        proc.send_signal(signal.SIGINT)
        # THEN it exits 0 within 15 s and leaves both ports free (no orphaned server)
        assert proc.wait(timeout=EXIT_TIMEOUT_S) == 0
        assert port_is_free(api_port), "chalice local still holds its port"
        assert port_is_free(engine_port), "the engine still holds its port"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_busy_port_stops_the_start_with_a_message_naming_it(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, run.API_PORT_ENV: str(free_port()), run.ENGINE_PORT_ENV: str(port),
               run.STATE_DIR_ENV: str(tmp_path / "state")}
        done = subprocess.run([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env, capture_output=True,
                              timeout=60, check=False)
    assert done.returncode == 1
    assert f"Port {port}" in done.stderr.decode() and f"ポート {port}" in done.stderr.decode()


def test_seeding_twice_changes_nothing(stack: Stack) -> None:
    # GIVEN the demo data seeded once
    first = run.seed_demo(stack.container)
    items_after_first = len(stack.all_items())
    # WHEN it is seeded again against the same store
    second = run.seed_demo(stack.container)
    # THEN nothing is created or granted twice, and the demo logins work
    assert (first.operator_created, first.merchant_created, first.grant_created) == (True, True, True)
    assert (second.operator_created, second.merchant_created, second.grant_created) == (False, False, False)
    assert second.merchant_qr_payload == first.merchant_qr_payload
    assert len(stack.all_items()) == items_after_first
    assert stack.container.payments.wallet("DEMO-CONSUMER").balance(stack.container.clock.now()) == 10000
    assert stack.container.login.login("demo-operator", "demo-operator-pass").role == "operator"
    assert stack.container.login.login("demo-shop", "demo-shop-pass").merchant_id == "MDEMOSHOP1"
    assert stack.container.merchants.get("MDEMOSHOP1").name_ja == "おながわ商店(デモ)"
