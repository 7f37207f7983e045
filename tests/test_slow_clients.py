"""Slow, idle and oversized clients over real sockets (issue 12): each gets an answer or a closed
connection within bounded time, and an oversized body gets Daraja's envelope, not a broken pipe."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.kernel.web import drain_limit
from tests.helpers import CallbackReceiver, Daraja

TIMEOUT = 0.5  # --body-timeout for these tests
PUSH = "/mpesa/stkpush/v1/processrequest"


@pytest.fixture(scope="module")
def slow_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, seed=5, body_timeout=TIMEOUT)) as s:
        yield s


@pytest.fixture
def token(slow_server: EmulatorServer) -> str:
    r = httpx.get(f"{slow_server.url}/oauth/v1/generate?grant_type=client_credentials",
                  auth=("k", "s"))
    return str(r.json()["access_token"])


def _connect(server: EmulatorServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    start = time.monotonic()
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data, time.monotonic() - start


def _head(token: str, length: int) -> bytes:
    return (
        f"POST {PUSH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_trickled_body_gets_invalid_payload_in_bounded_time(
    slow_server: EmulatorServer, token: str
) -> None:
    body = json.dumps({"BusinessShortCode": "174379", "pad": "x" * 200}).encode()
    sock = _connect(slow_server)
    sock.sendall(_head(token, len(body)))
    start = time.monotonic()
    answer = b""
    sock.setblocking(False)
    for byte in body:  # one byte every 0.1 s: 20 s in all, far past the deadline
        try:
            sock.send(bytes([byte]))
        except OSError:
            break  # closed on us: fine, as long as it was soon
        try:
            answer += sock.recv(65536)
        except BlockingIOError:
            pass
        if answer or time.monotonic() - start > 5:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - start
    sock.close()
    assert elapsed < TIMEOUT + 2.5, elapsed
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b'"errorCode":"400.002.05"' in answer
    assert b'"errorMessage":"Invalid Request Payload"' in answer


def test_idle_connection_is_closed(slow_server: EmulatorServer) -> None:
    sock = _connect(slow_server)
    data, elapsed = _read_until_closed(sock)
    sock.close()
    assert data == b"" and elapsed < TIMEOUT + 2.5, (data, elapsed)


def test_half_sent_headers_are_closed(slow_server: EmulatorServer) -> None:
    sock = _connect(slow_server)
    start = time.monotonic()
    closed = False
    for byte in b"GET /oauth/v1/generate?grant_type=client_credentials HTTP/1.1\r\nHost: x\r\n":
        try:
            sock.send(bytes([byte]))
        except OSError:
            closed = True
            break
        time.sleep(0.1)  # 7 s in all if nothing stops it
        if time.monotonic() - start > TIMEOUT + 2.5:
            break
    if not closed:
        data, _ = _read_until_closed(sock, 1.0)
        closed = data == b""
    sock.close()
    assert closed and time.monotonic() - start < TIMEOUT + 3.5


def test_slow_admin_body_is_closed(slow_server: EmulatorServer) -> None:
    """The admin API reads its bodies itself: the connection guard closes a slow one."""
    sock = _connect(slow_server)
    sock.sendall(b"POST /_emulator/time HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                 b"\r\nContent-Length: 100\r\n\r\n{")
    data, elapsed = _read_until_closed(sock)
    sock.close()
    assert elapsed < 2 * TIMEOUT + 3, elapsed


def test_a_normal_request_is_untouched(slow_server: EmulatorServer, receiver: CallbackReceiver
                                       ) -> None:
    client = Daraja(slow_server.url, receiver.url())
    try:
        assert client.push().status_code == 200
        time.sleep(TIMEOUT * 2.5)  # the keep-alive connection idles past the guard: reconnects
        assert client.push("254708374150").status_code == 200
    finally:
        client.close()


def test_two_megabyte_body_gets_the_envelope(slow_server: EmulatorServer, token: str) -> None:
    body = b'{"BusinessShortCode":"174379","pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = httpx.post(f"{slow_server.url}{PUSH}", content=body, timeout=10,
                   headers={"Authorization": f"Bearer {token}",
                            "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "400.002.05"
    assert r.json()["errorMessage"] == "Invalid Request Payload"


def test_two_megabyte_chunked_body_gets_the_envelope(
    slow_server: EmulatorServer, token: str
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(32):
            yield b"x" * 65536

    r = httpx.post(f"{slow_server.url}{PUSH}", content=chunks(), timeout=10,
                   headers={"Authorization": f"Bearer {token}",
                            "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errorCode"] == "400.002.05"


def test_body_past_the_drain_bound_is_refused_without_reading_it(
    slow_server: EmulatorServer, token: str
) -> None:
    """Content-Length past the drain bound: answered at once (the client may see a close)."""
    sock = _connect(slow_server)
    sock.sendall(_head(token, drain_limit(64 * 1024) + 1))
    data, elapsed = _read_until_closed(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 400") and b"400.002.05" in data
    assert elapsed < 2


def _get_on(sock: socket.socket) -> bytes:
    """One keep-alive token request on an open socket; its whole answer."""
    sock.sendall(b"GET /oauth/v1/generate?grant_type=client_credentials HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Basic azpz\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def test_busy_keep_alive_connection_then_idle(slow_server: EmulatorServer) -> None:
    """The guard moves its deadline with each answer (one timer per connection, not one per
    answer): a connection answering for three timeouts stays open, then, idle, closes one
    timeout after its last answer; a head half sent after answers is closed as well."""
    sock = _connect(slow_server)
    start = time.monotonic()
    answered = 0
    while time.monotonic() - start < 3 * TIMEOUT:
        assert _get_on(sock).startswith(b"HTTP/1.1 200"), answered
        last_answer = time.monotonic()
        answered += 1
        time.sleep(TIMEOUT / 5)
    data, _ = _read_until_closed(sock)
    idle = time.monotonic() - last_answer  # from the last answer to the close
    sock.close()
    assert answered >= 5 and data == b"" and TIMEOUT * 0.8 < idle < TIMEOUT + 1.5, (answered, idle)

    sock = _connect(slow_server)
    for _ in range(5):
        assert _get_on(sock).startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT / 5)
    sock.sendall(b"GET /oauth/v1/generate HTTP/1.1\r\nHost: x\r\n")  # and nothing more
    data, waited = _read_until_closed(sock)
    sock.close()
    assert data == b"" and waited < TIMEOUT + 1.5, waited
