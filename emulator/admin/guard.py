"""The admin API's door: Host, cross-site and Content-Type checks and the body size, before any
admin handler runs.

Why: without --admin-token the admin API answers whatever reaches the port, and a browser is
such a thing. A page on any site can POST text/plain to 127.0.0.1:8765 (cross-site request
forgery), or point its own name at 127.0.0.1 and then read the answers as same-origin (DNS
rebinding). So under /_emulator/:

- the Host header must name this emulator: a loopback name, an IP address (rebinding needs a
  name), --host, this machine's name or an --allowed-host (`*` turns the check off);
- POST, PUT and DELETE must come from no browser or from this origin (Origin, Sec-Fetch-Site),
  and send their body as application/json, which a cross-site page cannot do without a CORS
  preflight that the emulator never grants. A bodiless request from a non-browser client
  (`curl -X POST .../reset`) needs no Content-Type;
- a body declared larger than --max-body-bytes is refused at once (handlers also stop reading
  once over, see auth.read_raw).

Daraja paths (/oauth, /mpesa) are not checked: shops call the emulator by any name. The inbox
(/_emulator/inbox/NAME) receives callbacks, so its POST is open to any Host and Content-Type.
/_emulator/health answers any Host too, for orchestrators that probe by pod address.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

from emulator.config import Settings

log = logging.getLogger("emulator.admin")
PREFIX = "/_emulator"
INBOX = f"{PREFIX}/inbox/"
HEALTH = f"{PREFIX}/health"
UNSAFE = frozenset({"POST", "PUT", "DELETE", "PATCH"})
BROWSER_SAFE_SITES = frozenset({"same-origin", "none"})  # Sec-Fetch-Site values let through
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def served_names(settings: Settings) -> frozenset[str] | None:
    """The names the admin API answers to (besides loopback names and IP addresses); None when
    --allowed-host '*' turns the check off."""
    if "*" in settings.allowed_hosts:
        return None
    names = {settings.host.lower(), socket.gethostname().lower(), *settings.allowed_hosts}
    return frozenset(n.strip("[]").rstrip(".") for n in names if n)


def split_host(value: str) -> tuple[str, int | None] | None:
    """'Name:8765' -> ('name', 8765); '[::1]:80' -> ('::1', 80); None when malformed."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.path or parts.query or parts.username is not None:
        return None
    return host.rstrip("."), port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(value: str, names: frozenset[str] | None) -> bool:
    """Whether a Host header names this emulator (see the module's docstring)."""
    if names is None:
        return True
    parsed = split_host(value)
    if parsed is None:
        return False
    host = parsed[0]
    return host == "localhost" or host.endswith(".localhost") or _is_ip(host) or host in names


def same_origin(origin: str, host: str) -> bool:
    """Whether an Origin header names the server the Host header names (ports compared, with the
    origin's scheme supplying a missing one; the scheme itself is not, for TLS proxies)."""
    try:
        parts = urlsplit(origin)
        o_host, o_port = parts.hostname, parts.port
    except ValueError:
        return False
    h = split_host(host)
    if not o_host or h is None or parts.scheme not in DEFAULT_PORTS:
        return False
    default = DEFAULT_PORTS[parts.scheme]
    return o_host.rstrip(".") == h[0] and (o_port or default) == (h[1] or default)


def _headers(scope: Scope) -> dict[str, str]:
    """The first value of each header, as Starlette's Request.headers reads them."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def refusal(scope: Scope, names: frozenset[str] | None, limit: int) -> tuple[int, str] | None:
    """Why an admin request is refused (status, message), or None to let it through."""
    path, method, headers = scope["path"], scope["method"], _headers(scope)
    receiver = method == "POST" and path.startswith(INBOX)
    host = headers.get("host", "")
    if host and not (receiver or path == HEALTH) and not host_allowed(host, names):
        shown = host if len(host) <= 100 else host[:100] + "..."
        return 403, (
            f"Host {shown!r} is not a name this emulator serves its admin API under (DNS "
            "rebinding guard); start it with --allowed-host NAME (DARAJA_ALLOWED_HOST) to allow "
            "it, e.g. a compose service name"
        )
    if method not in UNSAFE:
        return None
    origin, site = headers.get("origin"), headers.get("sec-fetch-site")
    if origin is not None and not same_origin(origin, host):
        return 403, f"cross-site admin request refused (Origin {origin[:100]!r})"
    if site is not None and site.lower() not in BROWSER_SAFE_SITES:
        return 403, f"cross-site admin request refused (Sec-Fetch-Site: {site[:40]})"
    length = headers.get("content-length", "")
    if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > limit):
        return 413, f"the body is over --max-body-bytes {limit} (Content-Length {length})"
    if receiver:
        return None
    kind = headers.get("content-type")
    has_body = length not in ("", "0") or "transfer-encoding" in headers
    browser = origin is not None or site is not None
    if kind is None and not has_body and not browser:
        return None  # curl -X POST .../reset: no body, no browser, nothing to forge
    if (kind or "").split(";", 1)[0].strip().lower() != "application/json":
        return 403, (
            "admin POST, PUT and DELETE must send Content-Type: application/json "
            f"(got {(kind or 'none')[:60]!r}); with curl: -H 'Content-Type: application/json'"
        )
    return None


class AdminGuard:
    """ASGI middleware: runs `refusal` for paths under /_emulator and answers {"error": ...}
    itself when it refuses; every other path goes straight through."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.names = served_names(settings)
        self.limit = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            refused = refusal(scope, self.names, self.limit)
            if refused is not None:
                status, message = refused
                log.warning("refused %s %s: %s", scope["method"], path, message)
                await JSONResponse({"error": message}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
