"""asyncio + h11 stays a working fallback where uvloop or httptools cannot be installed: the
emulator serves, says so at start, and posts callbacks with h11 framing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import CallbackReceiver, Daraja
from tests.test_durability import free_port

pytestmark = pytest.mark.slow  # a process of its own

BLOCK = "import sys; sys.modules['uvloop'] = None; sys.modules['httptools'] = None\n"


def test_the_emulator_serves_on_asyncio_and_h11(receiver: CallbackReceiver) -> None:
    port = free_port()
    env = {**os.environ, "DARAJA_PORT": str(port), "DARAJA_TIME_SCALE": "0"}
    code = BLOCK + "from emulator.cli import main\nsys.exit(main())\n"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}/_emulator/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "did not start"
            time.sleep(0.05)
        shop = Daraja(url, receiver.url("/fallback"))
        checkout_id = shop.push("254708374149").json()["CheckoutRequestID"]
        assert receiver.wait(checkout_id)[0]["Body"]["stkCallback"]["ResultCode"] == 0
        shop.close()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "serving on asyncio + h11" in err
