"""``make run``: the whole local stack, started and stopped as one process tree.

What it does, in order (SPEC §12):

1. starts the local engine (moto served single-threaded on 127.0.0.1, so every DynamoDB call is
   atomic as in DynamoDB) on a fixed port;
2. creates the table and bucket from ``infrastructure/resources.json``, the template deployment uses;
3. generates a session secret for this run and the development issuer's keys in ``.local/``;
4. seeds the fixed demo operator, merchant and consumer of SPEC §12, and about two months of demo
   history (``devstack.demo``: other shops and consumers, closed periods, payouts in every state),
   idempotently;
5. starts the API server as a child process pointed at the engine: ``python -m devstack.serve``,
   chalice's local server as ``chalice local --stage local`` runs it but with a listen backlog for
   50+ simultaneous clients, the same code the tests serve the app with; waits until
   ``/v1/health`` answers, and prints the URLs and demo credentials;
6. runs the settlement schedules itself (chalice's local server does not run ``@app.schedule``);
7. on Ctrl-C or SIGTERM stops the server (SIGTERM, SIGKILL after 3 s) and the engine and exits 0,
   within a few seconds.

Invariants:

- The data lives in the engine's memory for this run only: every ``make run`` starts empty and
  seeds again. Seeding is still idempotent, so running it twice against one engine changes nothing.
- The server runs in its own session (process group): the terminal's Ctrl-C reaches only this
  process, which then stops the whole group, so no child outlives the stack.
- Each process dies with its parent (Linux, ``devstack.lifetime``): this one with whoever started
  it, the server with this one. So a SIGTERM to ``make`` stops the stack even if make does not
  forward it, and a SIGKILLed ``make run`` leaves nothing behind. Run it under a process that stays
  (make, a shell, a terminal multiplexer): a detached ``python -m devstack.run &`` stops with its shell.
- Ports are fixed (the demo credentials and README URLs name them) and can be moved with
  ``LOCAL_API_PORT`` / ``LOCAL_ENGINE_PORT``; a busy port stops the start with a message naming it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from devstack.lifetime import die_with_parent

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container
    from devstack.engine import LocalEngine

# Heavy imports (moto, boto3, chalicelib) happen inside main() so the start-up time printed at the
# end counts them, and ``--help`` stays instant.
_PROCESS_STARTED = time.monotonic()
_PARENT_PID = os.getppid()  # read first: who started us, before anything can go wrong

REPO_ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG_PATH = REPO_ROOT / ".chalice" / "config.json"

HOST = "127.0.0.1"
STAGE = "local"
DEFAULT_API_PORT = 8000
DEFAULT_ENGINE_PORT = 4566
API_PORT_ENV = "LOCAL_API_PORT"
ENGINE_PORT_ENV = "LOCAL_ENGINE_PORT"
# Where the development issuer's keys live; git-ignored. Tests point it at a temporary folder.
STATE_DIR_ENV = "LOCAL_STATE_DIR"
DEFAULT_STATE_DIR = REPO_ROOT / ".local"

# "0" skips the demo history (tests that only start and stop the stack); anything else seeds it.
DEMO_HISTORY_ENV = "LOCAL_DEMO_HISTORY"

# Must match TABLE_NAME / BUCKET_NAME of the local stage in .chalice/config.json (checked at start).
TABLE_NAME = "onagawa-points-local"
BUCKET_NAME = "onagawa-points-local"

READY_TIMEOUT_S = 60.0
SERVER_STOP_GRACE_S = 3.0  # then SIGKILL: the whole stop stays under 5 s
SCHEDULE_INTERVAL_S = 60.0
READY_MARKER = "ready in"


# -- the demo data of SPEC §12 (fixed, also written in the README) ---------------------------------
@dataclasses.dataclass(frozen=True)
class DemoData:
    operator_login: str = "demo-operator"
    operator_password: str = "demo-operator-pass"
    merchant_login: str = "demo-shop"
    merchant_password: str = "demo-shop-pass"
    merchant_id: str = "MDEMOSHOP1"
    merchant_name_ja: str = "おながわ商店(デモ)"
    merchant_name_en: str = "ONAGAWA DEMO SHOP"
    store_id: str = "MDEMOSTR02"  # the demo merchant's second shop (its first is the merchant id)
    store_name_ja: str = "おながわ商店 駅前店(デモ)"
    store_name_en: str = "ONAGAWA DEMO EKIMAE"
    consumer_id: str = "DEMO-CONSUMER"
    consumer_points: int = 10_000
    grant_id: str = "DEMO-GRANT-1"
    resident_email: str = "demo-resident@example.jp"  # a resident of the local user pool (sign in on /pay/)
    resident_password: str = "demo-resident-pass1"
    resident_points: int = 3_000
    resident_grant_id: str = "DEMO-RESIDENT-GRANT-1"
    claim_batch_id: str = "DEMO-BATCH"  # its codes are listed in the README (the local claim key is fixed)
    claim_count: int = 5
    claim_points: int = 1_000

    @property
    def bank(self) -> dict[str, Any]:
        return {"bank_code": "0001", "branch_code": "001", "account_type": 1, "account_number": "1234567",
                "holder_kana": "ｵﾅｶﾞﾜｼｮｳﾃﾝ"}


DEMO = DemoData()


@dataclasses.dataclass(frozen=True)
class SeedResult:
    operator_created: bool
    merchant_created: bool
    grant_created: bool
    grant_expires_on: str
    merchant_qr_payload: str
    claim_codes: tuple[str, ...] = ()  # the demo batch's, unclaimed


class StartupError(RuntimeError):
    """The stack cannot start; the message says why and what to do, in Japanese and English."""


class _Stop(BaseException):  # not Exception: no "except Exception" on the way may swallow it
    """Raised in the main thread by the SIGINT/SIGTERM handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# -- configuration ---------------------------------------------------------------------------------
def port_from_env(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    raw = (env if env is not None else os.environ).get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise StartupError(f"{name} はポート番号(1〜65535)にしてください / {name} must be a port number, got {raw!r}")
    return int(raw)


def ensure_port_free(port: int, what: str) -> None:
    """Fail early, naming the port, instead of letting a child die with a bind error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the real servers do: connections of a previous run in TIME_WAIT must not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise StartupError(
                f"ポート {port} ({what}) はすでに使われています。起動中の make run を止めるか、"
                f"{API_PORT_ENV} / {ENGINE_PORT_ENV} で別のポートを指定してください。\n"
                f"Port {port} ({what}) on {HOST} is already in use. Stop the other process "
                f"(another `make run`?) or choose another port with {API_PORT_ENV} / {ENGINE_PORT_ENV}."
            ) from None


def stage_environment(stage: str = STAGE, config_path: Path = CHALICE_CONFIG_PATH) -> dict[str, str]:
    """The environment Chalice gives the stage: top-level variables, then the stage's own."""
    with config_path.open(encoding="utf-8") as fh:
        config = json.load(fh)
    env = {str(k): str(v) for k, v in config.get("environment_variables", {}).items()}
    stage_cfg = config.get("stages", {}).get(stage)
    if stage_cfg is None:
        raise StartupError(f"{config_path} にステージ {stage!r} がありません / has no stage {stage!r}")
    env.update({str(k): str(v) for k, v in stage_cfg.get("environment_variables", {}).items()})
    for name, expected in (("TABLE_NAME", TABLE_NAME), ("BUCKET_NAME", BUCKET_NAME)):
        if env.get(name) != expected:
            raise StartupError(f"{config_path}: stage {stage} {name} is {env.get(name)!r}, expected {expected!r}")
    return env


# -- seeding ---------------------------------------------------------------------------------------
def seed_demo(container: Container, demo: DemoData = DEMO) -> SeedResult:
    """Create the demo operator, merchant and consumer grant unless they already exist."""
    from chalicelib.core.clock import jst_date
    from chalicelib.core.errors import IdempotencyKeyReused, InvalidRequest
    from chalicelib.merchants.bank import bank_account
    from chalicelib.payments.commands import GrantRequest

    now = container.clock.now()
    operator_created = merchant_created = True
    try:
        container.accounts.create(login_id=demo.operator_login, role="operator", password=demo.operator_password,
                                  merchant_id=None, now=now)
    except InvalidRequest as exc:
        if exc.param != "login_id":  # only "this login id is taken" means "already seeded"
            raise
        operator_created = False
    try:
        registration = container.merchants.register(
            name_ja=demo.merchant_name_ja, name_en=demo.merchant_name_en, mcc=None, bank=bank_account(**demo.bank),
            merchant_id=demo.merchant_id, login_id=demo.merchant_login, password=demo.merchant_password,
        )
        qr_payload = registration.qr_payload
    except InvalidRequest as exc:
        if exc.param not in ("login_id", "merchant_id"):
            raise
        merchant_created = False
        qr_payload = container.merchants.qr_payload(container.merchants.get(demo.merchant_id))
    if container.merchants.repo.get_store(demo.store_id) is None:
        container.merchants.add_store(demo.merchant_id, name_ja=demo.store_name_ja, name_en=demo.store_name_en,
                                      mcc=None, store_id=demo.store_id)
    expires_on = dt.date(jst_date(now).year + 1, 12, 31)
    grant_created = False
    try:
        outcome = container.grants.grant(GrantRequest(
            grant_id=demo.grant_id, consumer_id=demo.consumer_id, points=demo.consumer_points,
            expires_on=expires_on,
        ))
        grant_created = outcome.created
    except IdempotencyKeyReused:
        # Seeded in an earlier year against the same engine: the demo grant exists, keep it.
        pass
    codes = seed_claim_batch(container, expires_on, demo)
    return SeedResult(operator_created=operator_created, merchant_created=merchant_created,
                      grant_created=grant_created, grant_expires_on=expires_on.isoformat(),
                      merchant_qr_payload=qr_payload, claim_codes=tuple(codes))


def seed_claim_batch(container: Container, expires_on: dt.date, demo: DemoData = DEMO) -> list[str]:
    """The demo batch of claim codes (unclaimed), idempotently; its codes (the README's) as printed."""
    from chalicelib.core.errors import IdempotencyKeyReused
    from chalicelib.payments.commands import ClaimBatchRequest

    with contextlib.suppress(IdempotencyKeyReused):  # issued in an earlier year against the same engine
        container.claims.create_batch(ClaimBatchRequest(count=demo.claim_count, points=demo.claim_points,
                                                        expires_on=expires_on, batch_id=demo.claim_batch_id))
    return demo_claim_codes(container.keys().claim_key, demo)


def demo_claim_codes(claim_key: str, demo: DemoData = DEMO) -> list[str]:
    """The demo batch's codes as printed (``XXXX-XXXX-XXXX-XXXX``)."""
    from chalicelib.payments import claim_codes

    return [claim_codes.display(claim_codes.derive(claim_key, demo.claim_batch_id, i)) for i in range(demo.claim_count)]


# -- schedules -------------------------------------------------------------------------------------
def run_due_schedules(container: Container) -> None:
    """One tick of the local scheduler: what the deployed ``@app.schedule`` functions would do.

    chalice's local server does not run ``@app.schedule``; this closes every period whose end plus the
    grace has passed, as the daily 15:05 UTC function does, then runs the conservation check as the
    daily 15:30 UTC function does (its report is what ``GET /v1/admin/ledger/check`` answers). Safe
    every minute: closing is exactly-once and the check only reads.
    """
    from chalicelib import bootstrap
    from chalicelib.http import jobs

    bootstrap.override(container)
    jobs.close_settlement_periods()
    jobs.run_ledger_check()


def run_schedules_loop(stop_event: threading.Event, container: Container,
                       interval_s: float = SCHEDULE_INTERVAL_S) -> None:
    """Thread target: call :func:`run_due_schedules` every ``interval_s`` until ``stop_event`` is set.

    A failing tick is reported and the loop goes on, as the next scheduled invocation would in Lambda.
    """
    while not stop_event.wait(interval_s):
        try:
            run_due_schedules(container)
        except Exception:
            print("スケジュール実行でエラー / scheduled run failed:\n" + traceback.format_exc(),
                  file=sys.stderr, flush=True)


# -- the API server --------------------------------------------------------------------------------
def start_server(env: Mapping[str, str], port: int, *, autoreload: bool) -> subprocess.Popen[bytes]:
    """``python -m devstack.serve`` (the server the tests use) in its own session, dying with this process."""
    from devstack import serve

    return subprocess.Popen(
        serve.command(port, parent_pid=os.getpid(), autoreload=autoreload, stage=STAGE),
        cwd=str(REPO_ROOT),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: we stop it, the terminal's Ctrl-C does not
    )


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise StartupError(f"API サーバーが終了しました(終了コード {code})/ the API server exited with "
                               f"code {code} before answering {url}; see its output above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last_problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_problem = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last_problem = str(exc)
        time.sleep(0.1)
    raise StartupError(f"{timeout_s:.0f} 秒待っても {url} が 200 を返しません / {url} did not answer 200 within "
                       f"{timeout_s:.0f} s (last: {last_problem})")


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = SERVER_STOP_GRACE_S) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace_s``; reap the child."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=grace_s)
    # Anything the child left in its group (e.g. the reloader's worker) goes too.
    _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)  # start_new_session made the child its group's leader


# -- banner ----------------------------------------------------------------------------------------
def seed_resident(container: Container, demo: DemoData = DEMO) -> str | None:
    """The demo resident in the local user pool, with a grant; its id (the pool's sub). Idempotent."""
    import datetime as dt

    import jwt

    from chalicelib.core.clock import jst_date
    from chalicelib.core.errors import Conflict, IdempotencyKeyReused
    from chalicelib.payments.commands import GrantRequest

    if not container.settings.cognito_enabled:
        return None
    residents = container.residents
    try:
        residents.sign_up(demo.resident_email, demo.resident_password)
        residents.confirm(demo.resident_email, "000000")  # the local engine accepts any code
    except Conflict:
        pass  # signed up by an earlier start against the same engine
    access = residents.sign_in(demo.resident_email, demo.resident_password).access_token
    resident = str(jwt.decode(access, options={"verify_signature": False})["sub"])
    expires_on = dt.date(jst_date(container.clock.now()).year + 1, 12, 31)
    with contextlib.suppress(IdempotencyKeyReused):  # granted by an earlier start
        container.grants.grant(GrantRequest(grant_id=demo.resident_grant_id, consumer_id=resident,
                                            points=demo.resident_points, expires_on=expires_on))
    return resident


def banner(*, api_base: str, engine_endpoint: str, seed: SeedResult, elapsed_s: float, demo: DemoData = DEMO) -> str:
    token_curl = (f"curl -s -X POST {api_base}/v1/dev/token -H 'Content-Type: application/json' "
                  f"-d '{{\"consumer_id\":\"{demo.consumer_id}\"}}'")
    rule = "=" * 78
    lines = [
        rule,
        " 女川 地域ポイント ローカル環境 / Onagawa regional points — local stack",
        rule,
        f"  API                                   {api_base}/v1",
        f"  OpenAPI 定義 / OpenAPI document        {api_base}/v1/openapi.json",
        f"  事業者コンソール / merchant console     {api_base}/console/",
        f"  支払い画面 / consumer pay pages         {api_base}/pay/",
        f"  商工会の管理画面 / operator pages       {api_base}/admin/",
        f"  AWS エンジン (moto) / local engine      {engine_endpoint}",
        "",
        "  デモ用アカウント / demo credentials",
        f"    商工会 / operator    {demo.operator_login} / {demo.operator_password}",
        f"    事業者 / merchant    {demo.merchant_login} / {demo.merchant_password}   (店舗ID / merchant id "
        f"{demo.merchant_id})",
        f"    利用者 / consumer    {demo.consumer_id}   {demo.consumer_points:,} pt (有効期限 / expires "
        f"{seed.grant_expires_on})",
        f"    住民 / resident      {demo.resident_email} / {demo.resident_password}   {demo.resident_points:,} pt "
        "(/pay/ でログイン / sign in on /pay/)",
        f"    デモ店舗のQR / demo shop QR payload: {seed.merchant_qr_payload}",
        f"    受取コード / claim codes ({demo.claim_batch_id}, {demo.claim_points:,} pt): "
        + "  ".join(seed.claim_codes[:3]),
        "",
        "  利用者トークンの取得 / get a consumer token:",
        f"    {token_curl}",
        "",
        "  商工会CLI / operator CLI:",
        f"    ONAGAWA_API={api_base} ONAGAWA_LOGIN_ID={demo.operator_login} "
        f"ONAGAWA_PASSWORD={demo.operator_password} .venv/bin/python -m cli merchants list",
        "",
        f"  準備完了 / {READY_MARKER} {elapsed_s:.1f} s — Ctrl-C で停止 / Ctrl-C to stop",
        rule,
    ]
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, flush=True)


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.run",
        description="ローカル環境を起動します(make run)/ Start the local stack. Ports: "
                    f"{API_PORT_ENV} (default {DEFAULT_API_PORT}), {ENGINE_PORT_ENV} (default {DEFAULT_ENGINE_PORT}).",
    )
    parser.add_argument("--autoreload", action="store_true",
                        help="コード変更で API サーバーを再起動 / restart the API server when code changes "
                             "(polls every project file each second)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # already shutting down: let the clean-up finish
            return
        stopping.set()
        raise _Stop(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    engine: LocalEngine | None = None
    server: subprocess.Popen[bytes] | None = None
    schedules_stop = threading.Event()
    try:
        api_port = port_from_env(API_PORT_ENV, DEFAULT_API_PORT)
        engine_port = port_from_env(ENGINE_PORT_ENV, DEFAULT_ENGINE_PORT)
        if api_port == engine_port:
            raise StartupError(f"{API_PORT_ENV} と {ENGINE_PORT_ENV} が同じです / must differ ({api_port})")
        ensure_port_free(api_port, "API")
        ensure_port_free(engine_port, "AWS エンジン / local engine")
        stage_env = stage_environment()

        from chalicelib import bootstrap
        from chalicelib.accounts import dev_issuer
        from chalicelib.bootstrap import Container
        from chalicelib.config import load_settings
        from devstack.engine import LocalEngine
        from devstack.provision import ensure_app_secret, provision

        say(f"AWS エンジンを起動 / starting the local engine on {HOST}:{engine_port} …")
        engine = LocalEngine(port=engine_port)
        try:
            engine.start()
        except OSError as exc:
            engine = None
            raise StartupError(f"ポート {engine_port} で AWS エンジンを起動できません / cannot start the local engine "
                               f"on port {engine_port}: {exc}") from None
        provisioned = provision(engine.endpoint, TABLE_NAME, BUCKET_NAME)
        ensure_app_secret(engine.endpoint, stage_env["SECRETS_NAME"])

        state_dir = Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR).resolve()
        key_path = state_dir / "dev-issuer-key.pem"
        jwks_path = state_dir / "dev-issuer-jwks.json"
        dev_issuer.ensure_keys(str(key_path), str(jwks_path))
        api_base = f"http://{HOST}:{api_port}"
        generated = {
            "DEV_ISSUER_KEY_PATH": str(key_path),
            "CONSUMER_JWKS_PATH": str(jwks_path),
            "PUBLIC_BASE_URL": api_base,
            # the residents' user pool on the local engine (its ids are made when it is created)
            **(provisioned.user_pool.environment(engine.endpoint) if provisioned.user_pool else {}),
        }
        # This process sees what the API server sees (the stage's variables, the generated ones, the
        # engine), so code run here by the schedules behaves as it does behind the API.
        os.environ.update({**stage_env, **generated, **engine.client_environment()})
        container = Container(settings=load_settings(os.environ))
        bootstrap.override(container)
        seed = seed_demo(container)
        seed_resident(container)
        from devstack.demo import seed_history

        history = seed_history(container, DEMO.merchant_id) if os.environ.get(DEMO_HISTORY_ENV) != "0" else None
        say("デモデータを登録しました / demo data seeded"
            + (f"(約2か月分の履歴: 決済 {history.payments} 件、取消 {history.cancellations} 件、"
               f"締め済み {len(history.closed_periods)} 期間)" if history and history.created else ""))

        child_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        say(f"API サーバーを起動 / starting the API server on {api_base} …")
        server = start_server(child_env, api_port, autoreload=args.autoreload)
        wait_until_healthy(f"{api_base}/v1/health", server)

        threading.Thread(target=run_schedules_loop, args=(schedules_stop, container),
                         name="local-schedules", daemon=True).start()
        say(banner(api_base=api_base, engine_endpoint=engine.endpoint, seed=seed,
                   elapsed_s=time.monotonic() - _PROCESS_STARTED))

        code = server.wait()
        print(f"API サーバーが終了しました(終了コード {code})/ the API server exited with code {code}",
              file=sys.stderr, flush=True)
        return 1
    except _Stop:
        say("\n停止します / stopping …")
        return 0
    except StartupError as exc:
        print(f"起動できません / cannot start:\n{exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stopping.set()  # later signals are ignored by on_signal so the clean-up runs to the end
        schedules_stop.set()
        if server is not None:
            stop_process_group(server)
        if engine is not None:
            engine.stop()


if __name__ == "__main__":
    if not die_with_parent(_PARENT_PID):
        sys.exit(0)  # started by a process that is already gone: nobody would stop us
    sys.exit(main())
