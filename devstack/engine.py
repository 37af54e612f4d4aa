"""A local AWS engine: moto's server on 127.0.0.1, serving one request at a time.

Invariants:

- The server is single-threaded (``threaded=False``) and speaks HTTP/1.0, so every request is
  handled to completion before the next one is read. That makes each DynamoDB call atomic, as it is
  in DynamoDB itself; moto's default threaded server does not serialize conditional writes, and
  concurrent ``UpdateItem`` calls with a ``ConditionExpression`` lose updates there.
- HTTP/1.0 is pinned on our own handler class. With HTTP/1.1 keep-alive a single-threaded server
  would sit on one idle pooled connection while every other client waits.
- Moto keeps its state in process-global backends: two engines in one process share one state,
  but each serializes only its own requests. Use one engine per process; ``reset()`` clears the
  state for every engine.
- The library never touches ``os.environ``. Clients it builds carry dummy credentials explicitly;
  processes that need the engine through the environment (``chalice local``) are configured by
  the caller, e.g. with :meth:`LocalEngine.client_environment`.
"""

from __future__ import annotations

import threading
import urllib.request
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_REGION = "ap-northeast-1"

# moto accepts any key pair; these are the values moto's own documentation uses for tests.
DUMMY_CREDENTIALS: dict[str, str] = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


class _SerialRequestHandler(MotoRequestHandler):
    """moto's request handler, pinned to HTTP/1.0 (one request per connection)."""

    # Set on the class itself so werkzeug's make_server never upgrades it to HTTP/1.1.
    protocol_version = "HTTP/1.0"


class _QuietSerialRequestHandler(_SerialRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def local_client(
    service_name: str,
    endpoint: str,
    region: str = DEFAULT_REGION,
    config: Config | None = None,
) -> Any:
    """A boto3 client for ``service_name`` at ``endpoint`` with dummy credentials.

    A fresh ``boto3.session.Session`` is used so that neither the default session nor the
    environment's credentials are read or changed.
    """
    session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
    return session.client(service_name, endpoint_url=endpoint, config=config)


class LocalEngine:
    """moto's WSGI app served single-threaded on ``host:port`` from a background thread.

    ``port=0`` picks a free port; read it back from :attr:`port` or :attr:`endpoint`. Binding
    happens in :meth:`start`, in the caller's thread, so "address already in use" is raised there.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = DEFAULT_HOST,
        region: str = DEFAULT_REGION,
        quiet: bool = True,
    ) -> None:
        self._requested_port = port
        self._host = host
        self.region = region
        self._quiet = quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("LocalEngine is already running")
        app = DomainDispatcherApplication(create_backend_app)
        handler = _QuietSerialRequestHandler if self._quiet else _SerialRequestHandler
        server = make_server(
            self._host,
            self._requested_port,
            app,
            threaded=False,
            processes=1,
            request_handler=handler,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"moto-engine-{server.server_port}",
            daemon=True,
        )
        self._server = server
        self._thread = thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._require_server().server_port

    @property
    def endpoint(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Clear every moto backend (all tables, buckets, objects) through moto's own API."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 200:
                raise RuntimeError(f"moto reset failed with HTTP {response.status}")

    # -- clients ------------------------------------------------------------------------------
    def client(self, service_name: str, config: Config | None = None) -> Any:
        """A boto3 client bound to this engine, with dummy credentials and this engine's region."""
        return local_client(service_name, self.endpoint, self.region, config)

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point boto3 in a child process at this engine.

        Returned, never applied: the caller decides whose environment to change.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": DUMMY_CREDENTIALS["aws_session_token"],
        }

    def _require_server(self) -> BaseWSGIServer:
        if self._server is None:
            raise RuntimeError("LocalEngine is not running; call start() or use it as a context manager")
        return self._server


def serve_forever_main(argv: list[str] | None = None) -> None:
    """``python -m devstack.engine PORT``: serve the local engine in its own process (benchmarks use
    this so that the engine's memory and CPU are not counted as the client's)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    engine = LocalEngine(int(args[0]) if args else 0).start()
    print(engine.endpoint, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()


if __name__ == "__main__":
    serve_forever_main()
