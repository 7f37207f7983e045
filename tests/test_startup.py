"""`daraja-emulator` imports only what serving needs: what only a rarer request, a flag or the
fallback stack uses is imported when first used (docs/performance.md, "where start-up goes")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emulator import gcpolicy
from tests.test_durability import free_port

pytestmark = pytest.mark.slow  # a process of its own

# Starts `python -m emulator ARGS`, waits for the first 200 on the health path, then prints the
# names of the modules the process has loaded (a raw socket: the probe itself imports nothing)
# and, on a second line, its collector's state.
PROBE = """
import gc, os, runpy, socket, sys, threading, time

def probe(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /_emulator/health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
                if s.recv(20).startswith(b"HTTP/1.1 200"):
                    print(" ".join(sorted(sys.modules)))
                    print(gc.isenabled(), *gc.get_threshold(), gc.get_freeze_count(), flush=True)
                    os._exit(0)
        except OSError:
            time.sleep(0.05)
    os._exit(3)

threading.Thread(target=probe, args=(int(sys.argv[1]),), daemon=True).start()
sys.argv = ["emulator", "--port", sys.argv[1], "--log-level", "warning", *sys.argv[2:]]
runpy.run_module("emulator", run_name="__main__", alter_sys=True)
"""


def served(*args: str) -> tuple[set[str], list[str]]:
    """The modules a served emulator has loaded, and its collector's state."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(free_port()), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules, collector = done.stdout.splitlines()
    return set(modules.split()), collector.split()


def served_modules(*args: str) -> set[str]:
    return served(*args)[0]


def roots(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_serving_imports_only_what_serving_needs() -> None:
    modules = served_modules()
    loaded = roots(modules)
    assert "h11" not in loaded  # the callback client's parser where httptools is missing
    assert "yaml" not in loaded  # the bundled scenarios come from their snapshot
    # C2B, Dynamic QR and the initiator APIs are built on their first request (kernel/lazy.py)
    assert not {m for m in modules if m.startswith(("emulator.daraja.c2b.", "emulator.daraja.qr.",
                                                     "emulator.daraja.initiator"))}
    assert "segno" not in loaded  # Dynamic QR's image: made on the first code
    assert "sqlite3" not in loaded  # the --state file
    assert not {"websockets", "wsproto"} & loaded  # never served: ws="none"
    assert "emulator.tls" not in modules and "cryptography" not in loaded  # --tls only
    assert "faker" not in loaded  # customers' names: faker is loaded for the first one
    assert "httpx" not in loaded and "emulator.qa" not in modules  # the subcommands' client
    assert "uvicorn.protocols.websockets.auto" not in modules
    # every admin handler but health is imported by its first request (kernel/lazy.py Later)
    assert {m for m in modules if m.startswith("emulator.admin.")} == {
        "emulator.admin.auth", "emulator.admin.guard", "emulator.admin.routes"}
    assert "starlette.staticfiles" not in modules
    assert "emulator.kernel.httppost" not in modules  # the callback client: the first post
    assert "emulator.faults.responses" not in modules  # the first fault answered


def test_a_state_file_loads_sqlite(tmp_path: Path) -> None:
    loaded = roots(served_modules("--state", str(tmp_path / "state.db")))
    assert "sqlite3" in loaded


def test_the_collector_runs_again_after_start_up_with_start_up_frozen() -> None:
    enabled, *thresholds, frozen = served()[1]
    assert enabled == "True" and tuple(map(int, thresholds)) == gcpolicy.THRESHOLDS
    assert int(frozen) > 10_000  # modules, app and scenarios: never walked again


WARMS = """
import sys, time
from emulator import EmulatorServer, Settings
from emulator.ledger import names
with EmulatorServer(Settings(time_scale=0)):
    loaded_at_start = names._TABLES is not None
    deadline = time.monotonic() + 20
    while names._TABLES is None and time.monotonic() < deadline:
        time.sleep(0.05)
    print(loaded_at_start, names._TABLES is not None, "faker" in sys.modules)
"""


def test_customer_names_load_after_start_up_without_a_request() -> None:
    """faker loads in a thread once serving began: not at start-up, and not at the first
    success of a new phone, where it stalled the loop and every callback due meanwhile."""
    done = subprocess.run([sys.executable, "-c", WARMS], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True"]
