"""The scheduler on the injected clock: order, replacement, cancel, fast-forward, isolation.

A FakeClock drives it, so nothing sleeps; one test checks the real clock on a real loop.
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from emulator.kernel.clock import FakeClock, SystemClock
from emulator.kernel.scheduler import Scheduler


def test_jobs_fire_in_due_order_and_on_time() -> None:
    clock = FakeClock()
    fired: list[tuple[str, float]] = []
    s = Scheduler(clock, lambda key: fired.append((key, clock.monotonic())))
    for key, delay in [("c", 6.0), ("a", 2.0), ("b", 4.0)]:
        s.after(key, delay)
    assert len(s) == 3
    clock.advance(1.9)
    assert fired == []
    clock.advance(0.1)
    assert fired == [("a", 2.0)]
    clock.advance(10)
    assert [k for k, _ in fired] == ["a", "b", "c"]
    assert len(s) == 0


def test_rescheduling_replaces_and_cancel_removes() -> None:
    clock = FakeClock()
    fired: list[str] = []
    s = Scheduler(clock, fired.append)
    s.after("x", 1)
    s.after("x", 5)  # replaces: fires once, later
    s.after("y", 1)
    assert s.cancel("y") is True
    assert s.cancel("y") is False
    clock.advance(3)
    assert fired == []
    assert s.due_in("x") == 2
    clock.advance(2)
    assert fired == ["x"]
    assert s.due_in("x") is None


def test_run_now_brings_a_job_forward() -> None:
    clock = FakeClock()
    fired: list[str] = []
    s = Scheduler(clock, fired.append)
    s.after("late", 3600)
    assert s.run_now("late") is True
    assert s.run_now("missing") is False
    clock.advance(0)
    assert fired == ["late"]


def test_an_earlier_job_rearms_the_wake_up() -> None:
    clock = FakeClock()
    fired: list[str] = []
    s = Scheduler(clock, fired.append)
    s.after("hour", 3600)
    s.after("soon", 1)
    clock.advance(5)
    assert fired == ["soon"]
    assert s.keys() == ["hour"]
    s.cancel_all()
    clock.advance(7200)
    assert fired == ["soon"] and len(s) == 0


def test_a_failing_job_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    fired: list[str] = []

    def fire(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        fired.append(key)

    s = Scheduler(clock, fire)
    for key in ("a", "bad", "b"):
        s.after(key, 0.0)
    clock.advance(0)
    assert sorted(fired) == ["a", "b"]
    assert "scheduled job bad failed" in caplog.text


def test_a_job_scheduled_while_firing_waits_for_its_own_turn() -> None:
    fired: list[str] = []

    async def main() -> None:
        s: Scheduler

        def fire(key: str) -> None:
            fired.append(key)
            if len(fired) < 5:
                s.after(key, 0.0)  # at once again: must not spin inside one wake-up

        s = Scheduler(SystemClock(), fire)
        s.after("again", 0.0)
        await asyncio.sleep(0)
        assert fired == []  # nothing runs before the loop turns
        for _ in range(100):  # bounded: each turn of the loop runs one wake-up
            if len(fired) == 5:
                break
            await asyncio.sleep(0.001)
        assert fired == ["again"] * 5

    asyncio.run(main())


def test_the_real_clock_fires_on_a_real_loop() -> None:
    fired: list[str] = []

    async def main() -> None:
        s = Scheduler(SystemClock(), fired.append)
        s.after("b", 0.02)
        s.after("a", 0.01)
        await asyncio.sleep(0.1)

    asyncio.run(main())
    assert fired == ["a", "b"]


def test_many_cancels_keep_the_heap_bounded() -> None:
    s = Scheduler(FakeClock(), lambda key: None)
    for i in range(20_000):
        s.after(f"k{i}", 60)
        s.cancel(f"k{i}")
    assert len(s) == 0
    assert len(s._heap) <= 2 * len(s) + 1024 + 1


def test_pending_jobs_are_invisible_to_the_garbage_collector() -> None:
    """What the design is for: 10,000 pending jobs add (almost) no GC-tracked objects."""
    s = Scheduler(FakeClock(), lambda key: None)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(10_000):
        s.after(f"ws_CO_{i}", 60)
    gc.collect()
    assert len(gc.get_objects()) - before < 100
    s.cancel_all()
