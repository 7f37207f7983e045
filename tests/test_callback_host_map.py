"""--callback-host-map, and a callback host that cannot be reached named in the record."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import serve_parser, settings_from
from emulator.kernel import hostmap
from emulator.kernel.hostmap import map_host, parse_host_map, unreachable_hint
from tests.helpers import CallbackReceiver, Daraja

MAP = {"localhost": "host.docker.internal", "shop.test": "127.0.0.1", "v6.test": "::1"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:8000/api/mpesa/callback?x=1", "http://host.docker.internal:8000/api/mpesa/callback?x=1"),  # noqa: E501
        ("http://LOCALHOST/cb", "http://host.docker.internal/cb"),
        ("https://user:pw@shop.test:8443/cb", "https://user:pw@127.0.0.1:8443/cb"),
        ("http://v6.test:81/cb", "http://[::1]:81/cb"),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1:8000/cb"),  # not in the map
        ("not a url", "not a url"),
    ],
)
def test_map_host(url: str, expected: str) -> None:
    assert map_host(url, MAP) == expected


@pytest.mark.parametrize("text", ["localhost", "=x", "localhost=", "a=http://b/"])
def test_bad_mapping_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HOST=NEWHOST"):
        parse_host_map(text)


def test_flag_and_environment_variable() -> None:
    args = serve_parser({}).parse_args(
        ["--callback-host-map", "localhost=host.docker.internal", "--callback-host-map", "A=b"]
    )
    assert dict(settings_from(args).callback_host_map) == {
        "localhost": "host.docker.internal", "a": "b"
    }
    env = {"DARAJA_CALLBACK_HOST_MAP": "localhost=host.docker.internal, 127.0.0.1=gw"}
    settings = settings_from(serve_parser(env).parse_args([]))
    assert dict(settings.callback_host_map) == {
        "localhost": "host.docker.internal", "127.0.0.1": "gw"
    }


def test_bad_flag_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        serve_parser({}).parse_args(["--callback-host-map", "localhost"])
    assert "expected HOST=NEWHOST" in capsys.readouterr().err


def test_hints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostmap, "in_container", lambda: True)  # the hint is for containers
    assert "--callback-host-map localhost=host.docker.internal" in unreachable_hint(
        "http://localhost:8000/cb"
    )
    assert "localhost:8000" in unreachable_hint("http://localhost:8000/cb")
    assert "--callback-host-map 127.0.0.1=host.docker.internal" in unreachable_hint(
        "http://127.0.0.1/cb"
    )
    assert "--add-host=host.docker.internal:host-gateway" in unreachable_hint(
        "http://host.docker.internal:8000/cb"
    )
    assert unreachable_hint("http://shop:8000/cb") == "could not reach callback host shop:8000"


@pytest.fixture
def mapped() -> Iterator[EmulatorServer]:
    settings = Settings(time_scale=0, callback_host_map={"shop.test": "127.0.0.1"})
    with EmulatorServer(settings) as server:
        yield server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attempts(daraja: Daraja, checkout_id: str) -> list[dict]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if found := daraja.admin("GET", f"/transactions/{checkout_id}")["callback_attempts"]:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no callback attempt for {checkout_id}")


def test_callback_follows_the_map(mapped: EmulatorServer, receiver: CallbackReceiver) -> None:
    url = f"http://shop.test:{receiver.port}/api/mpesa/callback"
    daraja = Daraja(mapped.url, url)
    answer = daraja.push("254700001032").json()
    [callback] = receiver.wait(answer["CheckoutRequestID"])
    assert callback["Body"]["stkCallback"]["ResultCode"] == 1032
    [attempt] = attempts(daraja, answer["CheckoutRequestID"])
    assert attempt["url"] == receiver.url()  # the URL actually posted to
    record = daraja.admin("GET", f"/transactions/{answer['CheckoutRequestID']}")
    assert record["request"]["CallBackURL"] == url  # the push as the shop sent it
    daraja.close()


def test_unreachable_localhost_is_named_with_the_fix(
    daraja: Daraja, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostmap, "in_container", lambda: True)  # the hint is for containers
    url = f"http://localhost:{closed_port()}/api/mpesa/callback"
    checkout_id = daraja.push("254708374149", CallBackURL=url).json()["CheckoutRequestID"]
    [attempt] = attempts(daraja, checkout_id)
    assert attempt["status"] is None
    assert attempt["error"].startswith("connection failed")
    port = url.split(":")[2].split("/")[0]
    assert f"could not reach callback host localhost:{port}" in attempt["error"]
    assert "--callback-host-map localhost=host.docker.internal" in attempt["error"]
