"""bench/run.py --smoke: the benchmark starts its processes, runs every phase and prints its table.

It measures nothing worth reading (seconds-long runs on a shared machine), so nothing here
asserts a number: only that the script completes and prints the table with every row.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # CI runs these; `scripts/test -m 'not slow'` skips them

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)
def test_bench_smoke_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, report
    assert "| Measure" in done.stdout, report
    for row in (
        "processrequest: emulator req/s",
        "processrequest, callbacks deferred: ratio to ceiling",
        "query: ratio to ceiling",
        "oauth: ceiling req/s",
        "with --log-level info",
        "End-to-end: pushes accepted/s",
        "Callback lateness at 100 pending",
        "Memory at 1,000 pending",
        "Start-up to healthy",
        "Start-up: bare Starlette floor",
        "Start-up: daraja-mock",  # measured when installed, else how to install it
        "Start-up: emulator ÷ floor, ÷ peer",
    ):
        assert row in done.stdout, f"row {row!r} missing\n{report}"
    if shutil.which("daraja-mock") is None:  # the row says so, and a note how to install it
        assert "pip install daraja-mock==1.0.5" in done.stdout, report
    assert "FAILED" not in done.stdout, report
