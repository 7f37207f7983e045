"""The served process tunes its garbage collector; an emulator inside another process does not."""

from __future__ import annotations

import gc
import subprocess
import sys

from emulator import gcpolicy
from emulator.testing import EmulatorServer


def test_apply_freezes_start_up_objects_and_raises_the_thresholds() -> None:
    code = (
        "import gc; from emulator import gcpolicy; gcpolicy.apply(); "
        "print(gc.get_threshold(), gc.get_freeze_count() > 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == f"{gcpolicy.THRESHOLDS} True"


def test_an_in_process_emulator_leaves_the_host_collector_alone() -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    with EmulatorServer() as server:
        assert server.url
    assert (gc.get_threshold(), gc.get_freeze_count()) == before

