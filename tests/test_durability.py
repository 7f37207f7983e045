"""--state FILE: a real server process killed with SIGKILL mid-run loses nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import CallbackReceiver, Daraja

SCENARIO = "name: slow\nresult_code: 0\ndelay: 1.5\ndefault: true\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """`python -m emulator` as a user runs it."""

    def __init__(self, port: int, state: Path, scenarios: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DARAJA_PORT": str(port), "DARAJA_STATE": str(state),
               "DARAJA_SCENARIOS": str(scenarios), "DARAJA_NO_BUNDLED_SCENARIOS": "1",
               "DARAJA_LOG_LEVEL": "warning"}
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator"], env=env,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{self.url}/_emulator/health", timeout=1).raise_for_status()
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, self.proc.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=5)

    def stop(self) -> str:
        self.proc.terminate()
        return self.proc.communicate(timeout=10)[1]


@pytest.fixture
def paths(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "slow.yaml").write_text(SCENARIO)
    yield tmp_path / "state.sqlite", tmp_path / "scenarios"


def test_kill_9_then_restart_resumes_everything(paths: tuple[Path, Path],
                                               receiver: CallbackReceiver) -> None:
    state, scenarios = paths
    port = free_port()
    first = Process(port, state, scenarios)
    daraja = Daraja(first.url, receiver.url())
    try:
        done = daraja.push("254722000100").json()["CheckoutRequestID"]
        receiver.wait(done, timeout=5)
        pending = [daraja.push(f"25472200020{i}").json()["CheckoutRequestID"] for i in range(3)]
        pushed_at = time.monotonic()
        first.kill()
        time.sleep(0.3)
        second = Process(port, state, scenarios)
        try:
            for checkout_id in pending:  # delivered once, on time (due 1.5 s after the push)
                [callback] = receiver.wait(checkout_id, timeout=5)
                assert callback["Body"]["stkCallback"]["ResultCode"] == 0
            assert time.monotonic() - pushed_at < 4
            # the token issued before the crash still works, completed ones still answer
            assert daraja.query(done).json()["ResultCode"] == "0"
            r = daraja.push("254722000200")  # the lock ended with the transaction
            assert r.status_code == 200, r.text
            assert len(receiver.for_id(done)) == 1  # nothing delivered twice
        finally:
            second.stop()
    finally:
        daraja.close()


def test_overdue_outcomes_are_delivered_at_once(paths: tuple[Path, Path],
                                               receiver: CallbackReceiver) -> None:
    state, scenarios = paths
    port = free_port()
    first = Process(port, state, scenarios)
    daraja = Daraja(first.url, receiver.url())
    try:
        checkout_id = daraja.push("254722000300").json()["CheckoutRequestID"]
        first.kill()
        time.sleep(2.0)  # past its due time while the emulator is down
        second = Process(port, state, scenarios)
        try:
            receiver.wait(checkout_id, timeout=2)
            detail = daraja.admin("GET", f"/transactions/{checkout_id}")
            assert detail["state"] == "completed" and len(detail["callback_attempts"]) == 1
        finally:
            second.stop()
    finally:
        daraja.close()


def test_sigterm_finishes_in_flight_and_keeps_state(paths: tuple[Path, Path],
                                                   receiver: CallbackReceiver) -> None:
    state, scenarios = paths
    port = free_port()
    first = Process(port, state, scenarios)
    daraja = Daraja(first.url, receiver.url())
    try:
        checkout_id = daraja.push("254722000400").json()["CheckoutRequestID"]
        err = first.stop()
        assert "Traceback" not in err
        second = Process(port, state, scenarios)
        try:
            receiver.wait(checkout_id, timeout=5)
            assert daraja.query(checkout_id).json()["ResultCode"] == "0"
        finally:
            second.stop()
    finally:
        daraja.close()
