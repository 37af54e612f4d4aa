"""``make run`` for real: ``python -m devstack.run``, and the Makefile's ``run`` target, as child processes,
exercised over HTTP (50 clients at once among others), then stopped by each signal a person, a process
manager or CI sends."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from devstack import run
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 15.0
STOP_WITHIN_S = 5.0
SIMULTANEOUS_CLIENTS = 50


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
        # AND the demo history is there: other shops, closed periods with payouts
        status, body = call("POST", f"{base}/v1/auth/login",
                            {"login_id": "demo-operator", "password": "demo-operator-pass"})
        status, periods = call("GET", f"{base}/v1/admin/periods", token=body["token"])
        assert status == 200 and any(p["state"] == "closed" and p["payouts_count"] for p in periods["items"])
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
        assert port_is_free(api_port), "the API server still holds its port"
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
    # the demo merchant has a second shop with its own QR code
    assert [s.store_id for s in stack.container.merchants.stores("MDEMOSHOP1")] == ["MDEMOSHOP1", "MDEMOSTR02"]


# -- the Makefile's `run` target, stopped by each signal ---------------------------------------------
def make_run_command() -> list[str]:
    """``make run`` as a developer types it, with this interpreter as the Makefile's ``$(PY)``.

    ``make test`` has built the virtualenv stamp and fetched jsQR before the tests run; ``-o`` keeps
    make from rebuilding either here (a fresh stamp would reinstall, a missing jsqr.js would fetch it).
    """
    return ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "chalicelib/web/assets/jsqr.js",
            "run", f"PY={sys.executable}"]


def make_environment(api_port: int, engine_port: int, state_dir: Path) -> dict[str, str]:
    # Not the outer `make test`'s jobserver and flags: this make is its own top-level make.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update({run.API_PORT_ENV: str(api_port), run.ENGINE_PORT_ENV: str(engine_port),
                run.STATE_DIR_ENV: str(state_dir),
                run.DEMO_HISTORY_ENV: "0"})  # these start and stop the stack; the history is tested elsewhere
    return env


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, state, start time in clock ticks), read from /proc."""
    table: dict[int, tuple[int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
        table[int(entry.name)] = (int(fields[1]), fields[0], int(fields[19]))
    return table


def process_tree(root: int) -> dict[int, int]:
    """``root`` and every live descendant: pid -> start time (so a reused pid is not mistaken for it)."""
    table = process_table()
    tree = {root: table[root][2]} if root in table else {}
    added = True
    while added:
        added = False
        for pid, (ppid, state, started) in table.items():
            if ppid in tree and pid not in tree and state != "Z":
                tree[pid] = started
                added = True
    return tree


def still_running(tree: dict[int, int]) -> list[int]:
    table = process_table()
    return [pid for pid, started in tree.items()
            if pid in table and table[pid][1] != "Z" and table[pid][2] == started]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


@contextmanager
def make_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, int, int, Path]]:
    """``make run`` from the repository root on free ports, in its own process group as a terminal would
    start it; yields (make's process, API base URL, API port, engine port, log) once the banner is out."""
    api_port, engine_port = free_port(), free_port()
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(make_run_command(), cwd=ROOT, env=make_environment(api_port, engine_port,
                                                                                   tmp_path / "state"),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    tree: dict[int, int] = {}
    try:
        wait_for_ready(proc, log)
        tree = process_tree(proc.pid)
        yield proc, f"http://127.0.0.1:{api_port}", api_port, engine_port, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in still_running(tree):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def answer(base: str, index: int, start: threading.Barrier) -> str:
    """One client on its own connection: GET /v1/health or a POST whose JSON body the app reads.
    Returns "ok" or what went wrong."""
    try:
        start.wait(timeout=30)
        connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
        try:
            if index % 2:
                consumer = f"BURST-{index}"
                connection.request("POST", "/v1/dev/token", body=json.dumps({"consumer_id": consumer}),
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                body = json.loads(response.read())
                ok = response.status == 200 and body["consumer_id"] == consumer and body["token"]
            else:
                connection.request("GET", "/v1/health")
                response = connection.getresponse()
                body = json.loads(response.read())
                ok = response.status == 200 and body == {"status": "ok"}
            return "ok" if ok else f"HTTP {response.status}: {body}"
        finally:
            connection.close()
    except Exception as exc:  # a reset or refused connection is what this test is looking for
        return repr(exc)


def simultaneous_clients(base: str, count: int) -> list[str]:
    start = threading.Barrier(count)
    outcomes = [""] * count

    def client(index: int) -> None:
        outcomes[index] = answer(base, index, start)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


STOPS = {
    # what a process manager or CI sends: SIGTERM to the process it started (make forwards it, and the
    # stack also dies with make if it does not)
    "sigterm-to-make": lambda make, devstack: os.kill(make, signal.SIGTERM),
    # Ctrl-C in a terminal: SIGINT to the foreground process group (make and devstack.run)
    "sigint-to-the-process-group": lambda make, devstack: os.killpg(make, signal.SIGINT),
    # a SIGTERM to the stack itself (kill, a supervisor that knows the python process)
    "sigterm-to-devstack": lambda make, devstack: os.kill(devstack, signal.SIGTERM),
    # a process manager's last resort: make cannot pass anything on, the stack notices its parent died
    "sigkill-to-make": lambda make, devstack: os.kill(make, signal.SIGKILL),
}


@pytest.mark.slow
@pytest.mark.parametrize("stop", list(STOPS))
def test_make_run_serves_50_clients_at_once_and_every_signal_stops_all_of_it_within_5_s(
        tmp_path: Path, stop: str) -> None:
    # GIVEN `make run` started from the repository root, ready
    with make_run(tmp_path) as (make, base, api_port, engine_port, log):
        tree = process_tree(make.pid)
        commands = {pid: command_line(pid) for pid in tree}
        devstack = [pid for pid, cmd in commands.items() if "-m devstack.run" in cmd]
        servers = [pid for pid, cmd in commands.items() if "-m devstack.serve" in cmd]
        assert len(devstack) == 1 and len(servers) == 1, commands
        # WHEN 50 clients connect at the same moment, each on its own connection
        outcomes = simultaneous_clients(base, SIMULTANEOUS_CLIENTS)
        # THEN every one gets a complete answer: no connection reset or refused
        failures = [outcome for outcome in outcomes if outcome != "ok"]
        assert not failures, f"{len(failures)} of {SIMULTANEOUS_CLIENTS} clients failed: {failures[:5]}"

        # WHEN the signal arrives
        signalled = time.monotonic()
        STOPS[stop](make.pid, devstack[0])
        # THEN make, devstack.run and the server are gone and both ports free within 5 s
        while time.monotonic() - signalled < STOP_WITHIN_S:
            left = still_running(tree)
            if not left and port_is_free(api_port) and port_is_free(engine_port):
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - signalled
        left = still_running(tree)
        assert not left, f"still running {elapsed:.1f} s after {stop}: {[commands[pid] for pid in left]}"
        assert port_is_free(api_port), "the API server's port is still taken"
        assert port_is_free(engine_port), "the engine's port is still taken"
        print(f"{stop}: {SIMULTANEOUS_CLIENTS}/{SIMULTANEOUS_CLIENTS} clients answered; everything gone "
              f"{elapsed:.2f} s after the signal")
        # AND the stack stopped itself cleanly rather than being killed
        make.wait(timeout=STOP_WITHIN_S)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "停止します / stopping" in text, text
        assert "Traceback" not in text, text


def test_the_demo_resident_signs_in_with_its_points_and_seeding_twice_grants_once(stack: Stack) -> None:
    first = run.seed_resident(stack.container)
    second = run.seed_resident(stack.container)
    assert first is not None and first == second
    signed = stack.container.residents.sign_in(run.DEMO.resident_email, run.DEMO.resident_password)
    assert stack.container.consumer_tokens.verify(signed.access_token).subject == first
    assert stack.container.payments.wallet(first).balance(stack.container.clock.now()) == run.DEMO.resident_points


def test_the_readme_lists_unused_codes_of_the_demo_batch(stack: Stack) -> None:
    import re

    from chalicelib.payments import claim_codes

    # GIVEN the demo seeded with the local stage's fixed claim key
    seed = run.seed_demo(stack.container)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("受取コード", 1)[1]
    listed = re.findall(r"`([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})`", section)
    # THEN the README's codes are codes of the demo batch, valid and unclaimed
    assert len(listed) >= 3 and set(listed) <= set(seed.claim_codes)
    assert all(claim_codes.is_valid(code.replace("-", "")) for code in listed)
    batch = stack.container.claims.batch("DEMO-BATCH")
    assert (batch.count, batch.points, batch.claimed_count) == (5, 1000, 0)
    # AND one of them claims 1,000 points; DEMO-CONSUMER keeps exactly 10,000 and no history
    claimed = stack.container.claims.claim("README-READER", listed[0])
    assert claimed.points == 1000 and claimed.batch_id == "DEMO-BATCH"
    now = stack.container.clock.now()
    assert stack.container.payments.wallet("DEMO-CONSUMER").balance(now) == 10000
    assert stack.container.payments.consumer_history("DEMO-CONSUMER", limit=5, after=None)[0] == []
