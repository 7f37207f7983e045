"""Test helpers: a real callback receiver and a small Daraja client, both over real sockets."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE


class CallbackReceiver:
    """A real HTTP listener that records every callback POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.status = 200  # what it answers
        self.delay = 0.0  # seconds it waits before answering
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                time.sleep(receiver.delay)
                with receiver._cond:
                    receiver.raw.append(body)
                    receiver.received.append(json.loads(body))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ResultCode":0,"ResultDesc":"Accepted"}')

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/api/mpesa/callback") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def for_id(self, checkout_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return [
                c
                for c in self.received
                if isinstance(c, dict) and isinstance(c.get("Body"), dict)  # not a B2C result
                and c["Body"].get("stkCallback", {}).get("CheckoutRequestID") == checkout_id
            ]

    def wait(self, checkout_id: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The callbacks for one CheckoutRequestID once `count` have arrived; fails loudly."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(got := self.for_id(checkout_id)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(got)} of {count} callbacks for {checkout_id} within {timeout}s; "
                        f"received: {self.received}"
                    )
                self._cond.wait(left)
        return got

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def password(
    timestamp: str, shortcode: str = SANDBOX_SHORTCODE, passkey: str = SANDBOX_PASSKEY
) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


class Daraja:
    """The calls a shop backend makes, as plainly as the seed's MPesaService makes them."""

    def __init__(self, base_url: str, callback_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.callback_url = callback_url
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            r = self.http.get(
                "/oauth/v1/generate?grant_type=client_credentials",
                auth=("consumer-key", "consumer-secret"),
            )
            assert r.status_code == 200, r.text
            self._token = r.json()["access_token"]
        return self._token

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def push_body(self, phone: str = "254708374149", **fields: Any) -> dict[str, Any]:
        ts = fields.pop("Timestamp", datetime.now().strftime("%Y%m%d%H%M%S"))
        body = {
            "BusinessShortCode": SANDBOX_SHORTCODE,
            "Password": password(ts),
            "Timestamp": ts,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 1,
            "PartyA": phone,
            "PartyB": SANDBOX_SHORTCODE,
            "PhoneNumber": phone,
            "CallBackURL": self.callback_url,
            "AccountReference": "LX-20260115-0042",
            "TransactionDesc": "Payment for order LX-1",
        }
        body.update(fields)
        return body

    def push(self, phone: str = "254708374149", **fields: Any) -> httpx.Response:
        return self.http.post(
            "/mpesa/stkpush/v1/processrequest",
            json=self.push_body(phone, **fields),
            headers=self.auth(),
        )

    def query(self, checkout_id: str, **fields: Any) -> httpx.Response:
        ts = datetime.now().strftime("%Y%m%d%H%M%S")
        body = {
            "BusinessShortCode": SANDBOX_SHORTCODE,
            "Password": password(ts),
            "Timestamp": ts,
            "CheckoutRequestID": checkout_id,
        }
        body.update(fields)
        return self.http.post("/mpesa/stkpushquery/v1/query", json=body, headers=self.auth())

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.http.request(method, f"/_emulator{path}", **kwargs)
        assert r.status_code < 300, r.text
        return r.json()

    def wait_final(self, checkout_id: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            txn = self.admin("GET", f"/transactions/{checkout_id}")
            if txn["state"] == "completed":
                return txn
            time.sleep(0.01)
        raise AssertionError(f"{checkout_id} did not complete within {timeout}s: {txn}")

    def close(self) -> None:
        self.http.close()


def load_example_service() -> type:
    """The seed guide's MPesaService as examples/shop carries it (base URL from MPESA_BASE_URL)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "shop" / "mpesa_service.py"
    spec = importlib.util.spec_from_file_location("example_mpesa_service", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MPesaService
