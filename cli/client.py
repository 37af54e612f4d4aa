"""The operator's HTTP client: JSON in and out, login on first use, the API's errors as exceptions.

Knows nothing of click: a command turns :class:`CliError` into a printed message and exit 1
(:mod:`cli.main`).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from email.message import Message
from typing import Any

ENV_API = "ONAGAWA_API"
ENV_LOGIN_ID = "ONAGAWA_LOGIN_ID"
ENV_PASSWORD = "ONAGAWA_PASSWORD"  # noqa: S105 - the variable's name, not a password
DEFAULT_API = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0
REPLAYED_HEADER = "Idempotent-Replayed"


# -- errors ----------------------------------------------------------------------------------------
class CliError(Exception):
    """An expected failure: printed as one message, exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(CliError):
    """The API answered with an error body (SPEC §9) or an unexpected status."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param

    def __str__(self) -> str:
        where = f", param={self.param}" if self.param else ""
        return f"{self.message} ({self.code}, HTTP {self.status}{where})"


def api_error_from(status: int, body: bytes) -> ApiError:
    try:
        error = json.loads(body.decode("utf-8"))["error"]
        return ApiError(status, str(error["code"]), str(error["message"]), error.get("param"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        return ApiError(status, "http_error", f"APIがエラーを返しました / the API answered HTTP {status}: {snippet}")


def check_api_url(base_url: str) -> str:
    """The base URL without a trailing slash; anything but http(s)://host is refused."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CliError(f"--api は http(s):// で始まるURLにしてください / --api must be an http(s) URL: {base_url!r}")
    return base_url.rstrip("/")


def quote(segment: str) -> str:
    """One path segment, so an id can never add a segment or a query to the URL."""
    return urllib.parse.quote(segment, safe="")


# -- HTTP ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CliError(
                f"APIの応答がJSONではありません / the API did not answer JSON (HTTP {self.status})") from None

    @property
    def replayed(self) -> bool:
        return (self.headers.get(REPLAYED_HEADER) or "").lower() == "true"

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


class ApiClient:
    """A small JSON client for the operator API; logs in on first use and again if the session expired."""

    def __init__(self, base_url: str, login_id: str | None, password: Callable[[], str],
                 timeout_s: float = TIMEOUT_S) -> None:
        self.base_url = check_api_url(base_url)
        self.login_id = login_id
        self._password_source = password
        self._password: str | None = None
        self._token: str | None = None
        self.timeout_s = timeout_s

    # -- raw ----------------------------------------------------------------------------------
    def send(self, method: str, path: str, body: Any = None, *, accept: str = "application/json",
             token: str | None = None) -> Reply:
        headers = {"Accept": accept, "User-Agent": "onagawa-points-cli"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # The scheme was checked by check_api_url: only http(s) reaches urlopen.
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers,  # noqa: S310
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.headers, exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"APIに接続できません / cannot reach the API at {self.base_url}: {reason}") from None

    # -- authenticated ------------------------------------------------------------------------
    def login(self) -> str:
        if not self.login_id:
            raise CliError(f"ログインIDを --login-id か {ENV_LOGIN_ID} で指定してください / "
                           f"give the login id with --login-id or {ENV_LOGIN_ID}")
        if self._password is None:
            self._password = self._password_source()
        reply = self.send("POST", "/v1/auth/login", {"login_id": self.login_id, "password": self._password})
        if reply.status != 200:
            raise api_error_from(reply.status, reply.body)
        body = reply.json()
        if body.get("role") != "operator":
            raise CliError(f"{self.login_id} は商工会(operator)のアカウントではありません / "
                           f"{self.login_id} is not an operator account (role {body.get('role')!r})")
        self._token = str(body["token"])
        return self._token

    def call(self, method: str, path: str, body: Any = None, *, accept: str = "application/json",
             ok: Sequence[int] = (200, 201)) -> Reply:
        """An operator request; a 401 (expired session) logs in again and retries once.

        Retrying is safe: a 401 is answered before the route does anything.
        """
        fresh = self._token is None
        token = self._token or self.login()
        reply = self.send(method, path, body, accept=accept, token=token)
        if reply.status == 401 and not fresh:
            reply = self.send(method, path, body, accept=accept, token=self.login())
        if reply.status not in ok:
            raise api_error_from(reply.status, reply.body)
        return reply

    def get_json(self, path: str) -> Any:
        return self.call("GET", path).json()

    def post_json(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body).json()

    def download(self, path: str, *, accept: str, expect_type: str) -> bytes:
        """A file the API serves itself (image, letter); anything but ``expect_type`` is an error."""
        reply = self.call("GET", path, accept=accept, ok=(200,))
        if reply.content_type != expect_type:
            raise CliError(
                f"想定外の応答です / expected {expect_type}, the API sent {reply.content_type or 'nothing'}")
        return reply.body

    def download_link(self, path: str, method: str = "GET") -> bytes:
        """A file the API hands out as a presigned link (``{"url": ...}``): fetch the link, then the file."""
        url = str(self.call(method, path).json()["url"])
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise CliError(f"想定外のリンクです / the API sent a link that is not http(s): {url[:80]!r}")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:  # noqa: S310 - checked above
                data: bytes = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise CliError(f"ダウンロードできません / download failed: {exc}") from None
        return data
