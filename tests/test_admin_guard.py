"""The admin API refuses cross-site writes and DNS rebinding (issue #12), over real HTTP:
a page on any site must not steer the emulator nor read it by pointing its name at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings

JSON = {"Content-Type": "application/json"}
EVIL = "https://evil.example"
FAULT = b'{"fault":"unavailable","seconds":3600}'


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


# --- issue #12, item 1: cross-site requests and DNS rebinding ---


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL, "Content-Type": "text/plain"},  # the curl of the review: 200 before
    {"Origin": EVIL, "Content-Type": "application/json"},  # after a (never granted) preflight
    {"Origin": "null", "Content-Type": "application/json"},  # sandboxed frame, data: URL
    {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
    {"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},  # localhost:3000
    {"Content-Type": "text/plain"},  # a form or a beacon from a browser that sends no Origin
    {"Content-Type": "application/x-www-form-urlencoded"},
    {},  # a body with no Content-Type at all
])
def test_cross_site_and_non_json_writes_are_refused(http: httpx.Client,
                                                    headers: dict[str, str]) -> None:
    r = http.post("/_emulator/faults", content=FAULT, headers=headers)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/json" and r.json()["error"]
    assert _rules(http) == []  # nothing changed


def test_same_origin_json_writes_and_bodiless_client_posts_work(
    http: httpx.Client, server: EmulatorServer
) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    r = http.post("/_emulator/faults", content=FAULT,
                  headers={**JSON, "Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and len(_rules(http)) == 1
    assert http.post("/_emulator/reset").status_code == 200  # curl -X POST: no body, no browser
    assert _rules(http) == []
    assert http.delete("/_emulator/queue").status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},  # fetch(url, {method: "POST", mode: "no-cors"}) from another site
    {"Origin": "http://localhost:3000"},  # another local app: a different origin
    {"Origin": "REPLACE_SAME"},  # this very page, but not saying JSON: browsers must
    {"Sec-Fetch-Site": "cross-site"},
])
def test_bodiless_browser_writes_need_json_too(http: httpx.Client, server: EmulatorServer,
                                               headers: dict[str, str]) -> None:
    http.post("/_emulator/faults", content=FAULT, headers=JSON).raise_for_status()
    if headers.get("Origin") == "REPLACE_SAME":
        headers = {"Origin": f"http://127.0.0.1:{server.port}"}
    assert http.post("/_emulator/reset", headers=headers).status_code == 403
    assert http.delete("/_emulator/faults", headers=headers).status_code == 403
    assert len(_rules(http)) == 1


@pytest.mark.parametrize("path", ["/_emulator/transactions", "/_emulator/requests",
                                  "/_emulator/dashboard/", "/_emulator/events",
                                  "/_emulator/inbox/demo"])
def test_a_rebound_name_is_refused(http: httpx.Client, path: str) -> None:
    r = http.get(path, headers={"Host": "rebind.attacker.example:8765"})
    assert r.status_code == 403 and "--allowed-host" in r.json()["error"]
    r = http.post("/_emulator/faults", content=FAULT,
                  headers={**JSON, "Host": "rebind.attacker.example",
                           "Origin": "http://rebind.attacker.example"})
    assert r.status_code == 403 and _rules(http) == []


@pytest.mark.parametrize("host", ["localhost:1", "LOCALHOST", "127.0.0.1", "127.3.4.5:80",
                                  "[::1]:8765", "app.localhost", "10.1.2.3:8765",
                                  "[fd00::5]", socket.gethostname()])
def test_loopback_names_ip_addresses_and_this_machine_are_served(http: httpx.Client,
                                                                 host: str) -> None:
    assert http.get("/_emulator/transactions", headers={"Host": host}).status_code == 200


def test_daraja_paths_health_and_callbacks_answer_any_host(http: httpx.Client) -> None:
    shop_side = {"Host": "emulator:8765"}  # a compose service name
    r = http.get("/oauth/v1/generate?grant_type=client_credentials", headers=shop_side,
                 auth=("k", "s"))
    assert r.status_code == 200 and r.json()["access_token"]
    assert http.get("/_emulator/health", headers=shop_side).status_code == 200
    r = http.post("/_emulator/inbox/from-compose", json={"Body": 1}, headers=shop_side)
    assert r.status_code == 200
    assert len(http.get("/_emulator/inbox/from-compose").json()["callbacks"]) == 1


def test_allowed_host_adds_names_and_star_turns_the_check_off() -> None:
    with EmulatorServer(Settings(time_scale=0, allowed_hosts=("Emulator", "shop.test"))) as s, \
            httpx.Client(base_url=s.url) as http:
        for host in ("emulator:8765", "shop.test", "SHOP.TEST."):
            assert http.get("/_emulator/queue", headers={"Host": host}).status_code == 200
        assert http.get("/_emulator/queue", headers={"Host": "other"}).status_code == 403
    with EmulatorServer(Settings(time_scale=0, allowed_hosts=("*",))) as s, \
            httpx.Client(base_url=s.url) as http:
        assert http.get("/_emulator/queue", headers={"Host": "any.name"}).status_code == 200


def test_the_admin_token_does_not_replace_the_host_check() -> None:
    with EmulatorServer(Settings(time_scale=0, admin_token="t0k")) as s, \
            httpx.Client(base_url=s.url, headers={"X-Admin-Token": "t0k"}) as http:
        assert http.get("/_emulator/queue").status_code == 200
        assert http.get("/_emulator/queue", headers={"Host": "evil.example"}).status_code == 403


