"""An exposed emulator (issue #12): callbacks only to --callback-allow hosts, a loud warning
off loopback without a token, and no blank admin token that silently means none."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import main
from tests.helpers import CallbackReceiver, Daraja

# --- issue #12, item 4: callbacks only to allowed hosts, a warning when exposed ---


def _attempts(daraja: Daraja, checkout_id: str) -> list[dict[str, object]]:
    for _ in range(300):
        detail = daraja.admin("GET", f"/transactions/{checkout_id}")
        if detail["callback_attempts"]:
            return detail["callback_attempts"]
        time.sleep(0.01)
    raise AssertionError(f"no callback attempt for {checkout_id}")


def test_callback_allow_posts_only_to_listed_hosts(receiver: CallbackReceiver) -> None:
    with EmulatorServer(Settings(time_scale=0, callback_allow=("shop.test",))) as s:
        daraja = Daraja(s.url, receiver.url())
        checkout_id = daraja.push().json()["CheckoutRequestID"]
        [attempt] = _attempts(daraja, checkout_id)
        assert attempt["status"] is None and attempt["response_body"] == ""
        assert "127.0.0.1 is not in --callback-allow (shop.test)" in attempt["error"]
        assert receiver.for_id(checkout_id) == []
        daraja.close()
    with EmulatorServer(Settings(time_scale=0, callback_allow=("127.0.0.1",))) as s:
        daraja = Daraja(s.url, receiver.url())
        checkout_id = daraja.push().json()["CheckoutRequestID"]
        receiver.wait(checkout_id)
        assert _attempts(daraja, checkout_id)[0]["status"] == 200
        daraja.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_up_log(extra: dict[str, str]) -> str:
    """Start the real command, wait until it serves, stop it: its stderr."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DARAJA_")}
    env.update({"DARAJA_PORT": str(port), "DARAJA_TIME_SCALE": "0", **extra})
    proc = subprocess.Popen([sys.executable, "-m", "emulator"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "did not start"
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    return err


def test_a_loud_warning_when_listening_off_loopback_without_a_token() -> None:
    err = _start_up_log({"DARAJA_HOST": "0.0.0.0"})
    assert "WARNING" in err and "0.0.0.0 without --admin-token" in err
    assert "-p 127.0.0.1:" in err and "--callback-allow" in err
    assert "without --admin-token" not in _start_up_log({"DARAJA_HOST": "127.0.0.1"})
    assert "without --admin-token" not in _start_up_log(
        {"DARAJA_HOST": "0.0.0.0", "DARAJA_ADMIN_TOKEN": "s3cret"})


# --- issue #12, item 5: a blank admin token is refused ---


@pytest.fixture(autouse=True)
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a start-up go through after all, fail instead of serving forever."""
    import uvicorn

    def run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the emulator started")

    monkeypatch.setattr(uvicorn, "run", run)


@pytest.mark.parametrize("argv", [["--admin-token", ""], ["--admin-token", "  "]])
def test_a_blank_admin_token_flag_stops_start_up(argv: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, env={})
    assert exit_.value.code == 2 and "--admin-token" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["", " ", "\t"])
def test_a_blank_admin_token_variable_stops_start_up(value: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([], env={"DARAJA_ADMIN_TOKEN": value})
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and "DARAJA_ADMIN_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("token", ["", "   "])
def test_settings_refuse_a_blank_admin_token(token: str) -> None:
    with pytest.raises(ValueError, match="admin_token"):
        Settings(admin_token=token)
