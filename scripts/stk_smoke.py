"""A full STK flow against a running emulator, with the callback received on this machine.

    python scripts/stk_smoke.py http://127.0.0.1:8765

Health, token, push, the callback arriving at a listener here, then the query; for each phone
given (default: one that pays and one that cancels). Exits non-zero, saying which step failed.
Used by scripts/image-check against the container image; works against any emulator.
"""

from __future__ import annotations

import argparse
import base64
import json
import queue
import ssl
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

SHORTCODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
EXPECTED = {"254708374149": 0, "254700001032": 1032}  # pays; cancelled by the user


class Failed(Exception):
    pass


class Listener:
    """A callback receiver on this machine; every POST body lands in `callbacks`."""

    def __init__(self, bind: str) -> None:
        self.callbacks: queue.Queue[dict[str, Any]] = queue.Queue()
        inbox = self.callbacks

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                inbox.put(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ResultCode":0,"ResultDesc":"Accepted"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((bind, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, checkout_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                callback = self.callbacks.get(timeout=left)
            except queue.Empty:
                break
            if callback["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_id:
                return callback
        raise Failed(f"no callback for {checkout_id} reached this machine within {timeout:g}s")


def _password(timestamp: str) -> str:
    return base64.b64encode(f"{SHORTCODE}{PASSKEY}{timestamp}".encode()).decode()


def _expect(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise Failed(f"{step}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def wait_healthy(http: httpx.Client, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    problem = ""
    while time.monotonic() < deadline:
        try:
            return _expect(http.get("/_emulator/health"), "health")
        except (httpx.HTTPError, Failed) as exc:
            problem = str(exc)
        time.sleep(0.2)
    raise Failed(f"health: not healthy within {timeout:g}s ({problem})")


def flow(http: httpx.Client, listener: Listener, callback_url: str, phone: str, code: int,
         timeout: float) -> str:
    token = _expect(
        http.get("/oauth/v1/generate?grant_type=client_credentials", auth=("smoke", "smoke")),
        "token",
    )["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ts = datetime.now().strftime("%Y%m%d%H%M%S")
    push = {
        "BusinessShortCode": SHORTCODE, "Password": _password(ts), "Timestamp": ts,
        "TransactionType": "CustomerPayBillOnline", "Amount": 1, "PartyA": phone,
        "PartyB": SHORTCODE, "PhoneNumber": phone, "CallBackURL": callback_url,
        "AccountReference": "SMOKE-1", "TransactionDesc": "Smoke test",
    }
    answer = _expect(http.post("/mpesa/stkpush/v1/processrequest", json=push, headers=auth),
                     "push")
    if answer.get("ResponseCode") != "0":
        raise Failed(f"push: {answer}")
    checkout_id = answer["CheckoutRequestID"]
    stk = listener.wait(checkout_id, timeout)["Body"]["stkCallback"]
    if stk["ResultCode"] != code:
        raise Failed(f"callback: ResultCode {stk['ResultCode']}, expected {code}")
    query = {"BusinessShortCode": SHORTCODE, "Password": _password(ts), "Timestamp": ts,
             "CheckoutRequestID": checkout_id}
    result = _expect(http.post("/mpesa/stkpushquery/v1/query", json=query, headers=auth), "query")
    if result.get("ResultCode") != str(code):
        raise Failed(f"query: {result}, expected ResultCode {code}")
    return checkout_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the emulator, e.g. http://127.0.0.1:8765")
    parser.add_argument("--phone", action="append", help="PHONE=RESULTCODE (repeatable)")
    parser.add_argument("--listen", default="127.0.0.1", help="address the listener binds")
    parser.add_argument("--callback-host", default="127.0.0.1",
                        help="host named in the CallBackURL (as the emulator must reach it)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per wait")
    parser.add_argument("--cacert", help="CA file to verify an https emulator with")
    args = parser.parse_args(argv)
    phones = dict(p.split("=", 1) for p in args.phone) if args.phone else EXPECTED
    listener = Listener(args.listen)
    callback_url = f"http://{args.callback_host}:{listener.port}/api/mpesa/callback"
    verify = ssl.create_default_context(cafile=args.cacert) if args.cacert else True
    with httpx.Client(base_url=args.base_url, timeout=10, trust_env=False, verify=verify) as http:
        try:
            health = wait_healthy(http, args.timeout)
            print(f"ok  health: version {health['version']}, time scale {health['time_scale']}")
            for phone, code in phones.items():
                checkout_id = flow(http, listener, callback_url, phone, int(code), args.timeout)
                print(f"ok  {phone}: token, push, callback {code} received at {callback_url}, "
                      f"query agrees ({checkout_id})")
        except (Failed, httpx.HTTPError) as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            return 1
    print("STK flow passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
