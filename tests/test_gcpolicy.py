"""The served process tunes its garbage collector; an emulator inside another process does not."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import gcpolicy
from emulator.cli import main
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



def test_paused_restores_the_collector_whatever_happens() -> None:
    assert gc.isenabled()
    with gcpolicy.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(SystemExit), gcpolicy.paused():
        raise SystemExit(2)
    assert gc.isenabled()


def test_a_refused_start_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """main() runs in-process in tests: a start that stops early must not touch the GC."""
    (tmp_path / "slow.yaml").write_text("name: slow\nresult_code: 0\n\ndelay: soon\n")
    before = gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()
    assert main(["--scenarios", str(tmp_path), "--port", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["--no-such-flag"])
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
