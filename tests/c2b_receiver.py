"""A merchant's C2B endpoints over a real socket: records each POST by path, answers each path
with what the test says (status, body, delay)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCEPT = b'{"ResultCode":"0","ResultDesc":"Accepted"}'


class MerchantReceiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []  # (path, exact body)
        self.answers: dict[str, tuple[int, bytes, float]] = {}  # path -> (status, body, delay)
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer, delay = receiver.answers.get(self.path, (200, ACCEPT, 0.0))
                with receiver._cond:
                    receiver.posts.append((self.path, body))
                    receiver._cond.notify_all()
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the emulator stopped waiting

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str, trans_id: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            found = [json.loads(b) for p, b in self.posts if p == path]
        return [b for b in found if trans_id is None or b["TransID"] == trans_id]

    def raw(self, path: str) -> list[bytes]:
        with self._cond:
            return [b for p, b in self.posts if p == path]

    def wait(self, path: str, count: int = 1, timeout: float = 5.0,
             trans_id: str | None = None) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(got := self.bodies(path, trans_id)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(got)} of {count} POSTs to {path}: {self.posts}")
                self._cond.wait(left)
        return got

    def clear(self) -> None:
        with self._cond:
            self.posts.clear()
        self.answers.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
