"""Static assets of the web pages (scripts, the stylesheet, the vendored QR decoder), served at
``/assets/<name>``.

Invariants:

- Only the files named in ``ASSETS`` are served: the name is a key of that table, never a path,
  so nothing else under ``chalicelib`` can be read through the route.
- Pages link every asset as ``/assets/<name>?v=<content hash>``. A request whose ``v`` matches the
  file's current hash may be cached for a year (a new deployment changes the hash, hence the
  URL); any other request is answered with ``no-cache`` so a stale page never pins old code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

from chalice.app import Response

ASSET_DIR = Path(__file__).with_name("assets")

_JS = "text/javascript; charset=utf-8"
ASSETS: dict[str, str] = {
    "common.js": _JS,
    "console.js": _JS,
    "pay.js": _JS,
    "admin.js": _JS,
    "password.js": _JS,
    "resident.js": _JS,
    "jsqr.js": _JS,  # jsQR 1.4.0 from the npm registry, unmodified; Apache-2.0 (see jsqr.LICENSE.txt)
    "jsqr.LICENSE.txt": "text/plain; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


@dataclasses.dataclass(frozen=True)
class Asset:
    name: str
    content_type: str
    body: str
    version: str


@functools.cache
def load(name: str) -> Asset:
    """The asset called ``name``; ``KeyError`` when it is not one of ``ASSETS``."""
    content_type = ASSETS[name]
    body = (ASSET_DIR / name).read_text(encoding="utf-8")
    version = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    return Asset(name=name, content_type=content_type, body=body, version=version)


def url(base: str, name: str) -> str:
    return f"{base}/assets/{name}?v={load(name).version}"


def response(name: str, requested_version: str | None) -> Response | None:
    """The asset as an HTTP response, or ``None`` when no such asset exists."""
    if name not in ASSETS:
        return None
    asset = load(name)
    cache = "public, max-age=31536000, immutable" if requested_version == asset.version else "no-cache"
    return Response(body=asset.body, status_code=200,
                    headers={"Content-Type": asset.content_type, "Cache-Control": cache})
