"""Admin and inbox bodies and inboxes are bounded (issue #12), over real HTTP: a 200 MB POST
to an inbox once took the emulator from 44 to 435 MB, and reading an inbox made one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.admin.inbox import MAX_INBOXES

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, seed=12, max_body_bytes=4096)) as s:
        yield s


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/_emulator/reset").raise_for_status()
        client.delete("/_emulator/faults", headers=JSON).raise_for_status()
        yield client


def _rules(http: httpx.Client) -> list[object]:
    return http.get("/_emulator/faults").json()["rules"]


# --- issue #12, item 3: bounded bodies and inboxes ---


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


def test_admin_bodies_are_bounded_whether_declared_or_streamed(
    http: httpx.Client, server: EmulatorServer
) -> None:
    big = b'{"fault":"unavailable","pad":"' + b"x" * 5000 + b'"}'
    r = http.post("/_emulator/faults", content=big, headers=JSON)  # Content-Length: 5034
    assert r.status_code == 413 and "--max-body-bytes 4096" in r.json()["error"]
    r = http.post("/_emulator/faults", content=_chunks(8192), headers=JSON)  # chunked
    assert r.status_code == 413 and "--max-body-bytes 4096" in r.json()["error"]
    r = http.post("/_emulator/inbox/big", content=_chunks(8192), headers=JSON)
    assert r.status_code == 413
    assert "big" not in server.emulator.inbox
    assert _rules(http) == []


def test_a_huge_inbox_post_is_refused_before_it_is_read(server: EmulatorServer) -> None:
    """The review's 200 MB POST: a declared size is refused at once, a streamed one as soon as it
    passes the limit, long before the rest is sent."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /_emulator/inbox/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /_emulator/inbox/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))  # 64 KB of 200 MB, then we wait
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
    assert "big" not in server.emulator.inbox


def test_reading_an_inbox_creates_nothing_and_names_are_checked(
    http: httpx.Client, server: EmulatorServer
) -> None:
    for name in ("never-posted", "x" * 64):
        assert http.get(f"/_emulator/inbox/{name}").json() == {"name": name, "callbacks": []}
        assert http.delete(f"/_emulator/inbox/{name}").status_code == 200
    assert server.emulator.inbox == {}
    for name in ("x" * 65, "a%20b", "caf%C3%A9", "a:b"):
        r = http.post(f"/_emulator/inbox/{name}", json={})
        assert r.status_code == 400 and "64 characters" in r.json()["error"], name
    assert server.emulator.inbox == {}


def test_inboxes_are_bounded_the_least_recent_dropped(http: httpx.Client,
                                                      server: EmulatorServer) -> None:
    for i in range(MAX_INBOXES + 5):
        http.post(f"/_emulator/inbox/box{i}", json={"i": i}).raise_for_status()
        if i == 50:  # box0 written again: now more recent than box1 to box50
            http.post("/_emulator/inbox/box0", json={"again": True}).raise_for_status()
    kept = set(server.emulator.inbox)
    assert len(kept) == MAX_INBOXES
    assert "box0" in kept and "box1" not in kept and f"box{MAX_INBOXES + 4}" in kept
    [first, again] = http.get("/_emulator/inbox/box0").json()["callbacks"]
    assert first["body"] == {"i": 0} and again["body"] == {"again": True}


def test_an_inbox_keeps_the_first_4096_bytes_of_a_callback() -> None:
    text = '{"pad":"' + "y" * 4000 + '"}'
    with EmulatorServer(Settings(time_scale=0)) as s, httpx.Client(base_url=s.url) as http:
        http.post("/_emulator/inbox/long", content=text, headers=JSON).raise_for_status()
        [kept] = http.get("/_emulator/inbox/long").json()["callbacks"]
        assert kept["truncated"] is False and kept["body"] == {"pad": "y" * 4000}
        longer = text + " " * 200
        http.post("/_emulator/inbox/long", content=longer, headers=JSON).raise_for_status()
        cut = http.get("/_emulator/inbox/long").json()["callbacks"][1]
        assert cut["truncated"] is True and cut["raw"] == cut["body"] == longer[:4096]


