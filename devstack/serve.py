"""The Chalice app over HTTP on 127.0.0.1, served as ``chalice local`` serves it, by ``make run`` and the tests.

``make run`` runs ``python -m devstack.serve --port N`` as its API server, and the tests serve the app
in a thread of their own process with :class:`LocalApiServer` (``tests/support/local_api.py``), so the
server people try is the server the tests exercise (SPEC §12).

Taken from ``chalice local`` unchanged: its ``LocalDevServer`` and ``ChaliceRequestHandler`` (API
Gateway's event and Lambda context, HTTP/1.1 keep-alive) on its ``ThreadedHTTPServer`` (one daemon
thread per connection); the app's class swapped for ``CustomLocalChalice`` so ``current_request`` is
per thread; the stage's settings from ``.chalice/config.json``; and, as a process, the stage's
environment variables applied before ``app`` is imported and the route check ``chalice deploy`` makes.

Invariants:

- The listen backlog is :data:`LISTEN_BACKLOG` (256). Chalice's server keeps socketserver's 5, and the
  kernel resets or drops connections beyond it while the accept loop is busy: 50 clients connecting
  at once saw resets.
- ``chalicelib.http.local_gateway.install()`` runs after ``chalice.local`` is imported and before the
  first request, so unknown routes answer our JSON 404 and unknown methods our JSON 405, as deployed.
- :meth:`LocalApiServer.start` binds in the caller's thread, so "address already in use" is raised
  there; :meth:`LocalApiServer.stop` stops accepting, closes the socket, joins the serving thread and
  gives the app its own class back. Requests in flight run on daemon threads and are not waited for.
- As a process it stops on SIGTERM or SIGINT within a second and exits 0. With ``--parent-pid`` it
  dies with that parent (see ``devstack.lifetime``), so a killed ``make run`` leaves no server behind.
- ``--autoreload`` is chalice's reloader: a watching parent restarts a worker process whenever a file
  under the project changes. It polls every file (the in-repo virtualenv included) each second and
  restarts on cache writes by pytest or mypy, so it is off unless asked for.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

from chalicelib.http import local_gateway
from devstack.lifetime import die_with_parent

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STAGE = "local"
LISTEN_BACKLOG = 256
POLL_INTERVAL_S = 0.05  # how long stop() may wait for the accept loop to notice
WORKER_STOP_GRACE_S = 2.0
# Set in the worker process that ``--autoreload`` starts (and restarts).
WORKER_ENV = "DEVSTACK_SERVE_WORKER"


class _BacklogServer(ThreadedHTTPServer):
    request_queue_size = LISTEN_BACKLOG


class _QuietHandler(ChaliceRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def stage_config(stage: str = STAGE, project_dir: Path = REPO_ROOT) -> Config:
    """The stage's settings as ``chalice local --stage`` reads them from ``.chalice/config.json``."""
    with (project_dir / ".chalice" / "config.json").open(encoding="utf-8") as fh:
        from_disk = json.load(fh)
    return Config(chalice_stage=stage, config_from_disk=from_disk,
                  default_params={"project_dir": str(project_dir), "api_gateway_stage": "api"})


def build_dev_server(app: Chalice, config: Config, host: str, port: int, *, quiet: bool) -> LocalDevServer:
    """Chalice's ``LocalDevServer`` for ``app``, bound to ``host:port`` (0: any free port)."""
    local_gateway.install()  # chalice.local is imported (above), whatever imported the app first
    if not isinstance(app, CustomLocalChalice):
        # What ``chalice.local.create_local_server`` does: a thread-local ``current_request``.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    handler = _QuietHandler if quiet else ChaliceRequestHandler
    return LocalDevServer(app, config, host, port, server_cls=_BacklogServer, handler_cls=handler)


class LocalApiServer:
    """``app`` served from a background thread of this process; ``port=0`` picks a free port."""

    def __init__(self, app: Chalice, *, config: Config | None = None, host: str = HOST, port: int = 0,
                 quiet: bool = True) -> None:
        self._app = app
        self._config = config if config is not None else stage_config()
        self._host = host
        self._requested_port = port
        self._quiet = quiet
        self._server: LocalDevServer | None = None
        self._thread: threading.Thread | None = None
        self._original_class: type | None = None

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("LocalApiServer is already running")
        self._original_class = self._app.__class__
        try:
            server = build_dev_server(self._app, self._config, self._host, self._requested_port, quiet=self._quiet)
        except BaseException:
            self._app.__class__ = self._original_class
            raise
        thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_S},
                                  name=f"local-api-{server.server.server_address[1]}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the socket, join the thread. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        if self._original_class is not None:
            self._app.__class__ = self._original_class

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalApiServer is not running; call start() or use it as a context manager")
        return int(self._server.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# -- as a process: ``python -m devstack.serve`` ---------------------------------------------------
def command(port: int, *, parent_pid: int | None = None, autoreload: bool = False, quiet: bool = False,
            stage: str = STAGE) -> list[str]:
    """The command line that serves the app on ``port`` in a process of its own."""
    args = [sys.executable, "-m", "devstack.serve", "--port", str(port), "--stage", stage]
    if parent_pid is not None:
        args += ["--parent-pid", str(parent_pid)]
    if autoreload:
        args.append("--autoreload")
    if quiet:
        args.append("--quiet")
    return args


class _Stop(BaseException):  # not Exception: no "except Exception" on the way may swallow it
    """Raised in the main thread by the SIGINT/SIGTERM handler."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # one stop is enough; let the clean-up finish
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Stop(signum)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.serve",
                                     description=f"Serve app.py on {HOST} as `chalice local` does, with a listen "
                                                 f"backlog of {LISTEN_BACKLOG}.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default=STAGE, help="the stage of .chalice/config.json (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    parser.add_argument("--autoreload", action="store_true",
                        help="restart when a file under the project changes (polls every file each second)")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit when this process (our parent) exits; Linux only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.parent_pid is not None and not die_with_parent(args.parent_pid):
        return 0  # the parent is already gone
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        if args.autoreload and os.environ.get(WORKER_ENV) is None:
            return _watch_worker(args)
        app, config = _load_app(args.stage, quiet=args.quiet)
        if args.autoreload:
            from chalice.cli.reloader import start_worker_process

            factory = functools.partial(build_dev_server, app, config, HOST, args.port, quiet=args.quiet)
            return start_worker_process(factory, str(REPO_ROOT))
        try:
            server = LocalApiServer(app, config=config, port=args.port, quiet=args.quiet).start()
        except OSError as exc:
            print(f"ポート {args.port} で API を起動できません / cannot serve the API on {HOST}:{args.port}: {exc}",
                  file=sys.stderr, flush=True)
            return 1
        print(f"Serving on {server.base_url}", flush=True)
        try:
            threading.Event().wait()  # until a signal raises _Stop
        finally:
            server.stop()
        return 0
    except _Stop:
        return 0


def _load_app(stage: str, *, quiet: bool) -> tuple[Chalice, Config]:
    """What ``chalice local`` does before serving: the stage's environment, then ``app``, then the check."""
    from chalice.deploy.validate import validate_routes

    config = stage_config(stage)
    os.environ.update(config.environment_variables)
    if not quiet:
        # As ``chalice local``: the root logger prints to stdout, as CloudWatch would collect it.
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    app = importlib.import_module("app").app
    if not isinstance(app, Chalice):
        raise TypeError("app.app is not a Chalice application")
    validate_routes(app.routes)
    return app, config


def _watch_worker(args: argparse.Namespace) -> int:
    """``--autoreload``'s parent: run the worker, start it again each time it asks for a restart."""
    from chalice.cli.filewatch import RESTART_REQUEST_RC

    env = {**os.environ, WORKER_ENV: "1"}
    worker_command = command(args.port, parent_pid=os.getpid(), autoreload=True, quiet=args.quiet,
                             stage=args.stage)
    while True:
        worker = subprocess.Popen(worker_command, env=env, stdin=subprocess.DEVNULL)
        try:
            code = worker.wait()
        except _Stop:
            worker.terminate()
            try:
                worker.wait(timeout=WORKER_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            raise
        if code != RESTART_REQUEST_RC:
            return code


if __name__ == "__main__":
    sys.exit(main())
