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
from typing import Any

import httpx
import pytest

from tests.helpers import CallbackReceiver, Daraja

pytestmark = pytest.mark.slow  # CI runs these; `scripts/test -m 'not slow'` skips them

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


class Restarts:
    """Emulator processes sharing one port, state file and scenario folder; all stopped after."""

    def __init__(self, tmp: Path, receiver: CallbackReceiver) -> None:
        (tmp / "scenarios").mkdir()
        (tmp / "scenarios" / "slow.yaml").write_text(SCENARIO)
        self.state, self.scenarios, self.port = tmp / "state.sqlite", tmp / "scenarios", free_port()
        self.running: list[Process] = []
        self.daraja = Daraja(f"http://127.0.0.1:{self.port}", receiver.url())

    def start(self) -> Process:
        self.running.append(Process(self.port, self.state, self.scenarios))
        return self.running[-1]

    def close(self) -> None:
        for proc in self.running:
            if proc.proc.poll() is None:
                proc.stop()
        self.daraja.close()


@pytest.fixture
def restarts(tmp_path: Path, receiver: CallbackReceiver) -> Iterator[Restarts]:
    r = Restarts(tmp_path, receiver)
    yield r
    r.close()


def test_kill_9_then_restart_resumes_everything(restarts: Restarts,
                                               receiver: CallbackReceiver) -> None:
    first, daraja = restarts.start(), restarts.daraja
    done = daraja.push("254722000100").json()["CheckoutRequestID"]
    receiver.wait(done, timeout=5)
    pending = [daraja.push(f"25472200020{i}").json()["CheckoutRequestID"] for i in range(3)]
    pushed_at = time.monotonic()
    first.kill()
    time.sleep(0.3)
    restarts.start()
    for checkout_id in pending:  # delivered once, on time (due 1.5 s after the push)
        [callback] = receiver.wait(checkout_id, timeout=5)
        assert callback["Body"]["stkCallback"]["ResultCode"] == 0
    assert time.monotonic() - pushed_at < 4
    # the token issued before the crash still works, completed ones still answer
    assert daraja.query(done).json()["ResultCode"] == "0"
    r = daraja.push("254722000200")  # the lock ended with the transaction
    assert r.status_code == 200, r.text
    assert len(receiver.for_id(done)) == 1  # nothing delivered twice


def test_overdue_outcomes_are_delivered_at_once(restarts: Restarts,
                                               receiver: CallbackReceiver) -> None:
    first, daraja = restarts.start(), restarts.daraja
    checkout_id = daraja.push("254722000300").json()["CheckoutRequestID"]
    first.kill()
    time.sleep(2.0)  # past its due time while the emulator is down
    restarts.start()
    receiver.wait(checkout_id, timeout=2)
    detail = _attempted(daraja, checkout_id)  # recorded once the receiver's answer is back
    assert detail["state"] == "completed" and len(detail["callback_attempts"]) == 1


def _attempted(daraja: Daraja, checkout_id: str, timeout: float = 3.0) -> dict[str, Any]:
    """The transaction once a callback attempt is recorded (or as it is at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        detail = daraja.admin("GET", f"/transactions/{checkout_id}")
        if detail["callback_attempts"] or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def test_sigterm_finishes_in_flight_and_keeps_state(restarts: Restarts,
                                                   receiver: CallbackReceiver) -> None:
    first, daraja = restarts.start(), restarts.daraja
    checkout_id = daraja.push("254722000400").json()["CheckoutRequestID"]
    assert "Traceback" not in first.stop()
    restarts.start()
    receiver.wait(checkout_id, timeout=5)
    assert daraja.query(checkout_id).json()["ResultCode"] == "0"


def test_overdue_callbacks_to_the_emulators_own_inbox_arrive_after_a_restart(
    restarts: Restarts,
) -> None:
    """The inbox is the emulator itself: a callback due at restart must wait until it listens."""
    first, daraja = restarts.start(), restarts.daraja
    inbox = f"{first.url}/_emulator/inbox/restart"
    checkout_id = daraja.push("254722000400", CallBackURL=inbox).json()["CheckoutRequestID"]
    first.kill()
    time.sleep(2.0)  # past its due time while the emulator is down
    restarts.start()
    detail = _attempted(daraja, checkout_id, timeout=5)
    assert [a["status"] for a in detail["callback_attempts"]] == [200], detail
    assert checkout_id in httpx.get(inbox, timeout=2).text
