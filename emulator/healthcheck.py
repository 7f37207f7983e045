"""python -m emulator.healthcheck: exit 0 when the local emulator answers its health check.

For container health checks without curl. It reads the server's own DARAJA_HOST, DARAJA_PORT and
DARAJA_TLS variables (or --url), and uses the standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import urllib.request
from collections.abc import Mapping, Sequence

from emulator.config import DEFAULT_PORT

HEALTH_PATH = "/_emulator/health"
_TRUE = {"1", "true", "yes", "on"}
_ANY = {"", "0.0.0.0", "::"}  # listening everywhere: ask over loopback


def health_url(env: Mapping[str, str]) -> str:
    """The health endpoint of the emulator that the same DARAJA_* variables would start."""
    host = env.get("DARAJA_HOST", "").strip()
    host = "127.0.0.1" if host in _ANY else host
    if ":" in host:
        host = f"[{host}]"
    port = env.get("DARAJA_PORT", "").strip() or str(DEFAULT_PORT)
    scheme = "https" if env.get("DARAJA_TLS", "").strip().lower() in _TRUE else "http"
    return f"{scheme}://{host}:{port}{HEALTH_PATH}"


def check(url: str, timeout: float = 3.0) -> str | None:
    """None when healthy, else why not. TLS is not verified: this only asks 'are you up?'."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # never through an HTTP(S)_PROXY from the environment
        urllib.request.HTTPSHandler(context=context),
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"
    return None if status == "ok" else f"{url}: status {status!r}"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.healthcheck")
    parser.add_argument("--url", help="health URL (default: from DARAJA_HOST/PORT/TLS)")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    url = args.url or health_url(os.environ if env is None else env)
    problem = check(url, args.timeout)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
