"""The scheduler on a real event loop: order, replacement, cancel, fast-forward, isolation."""

from __future__ import annotations

import asyncio
import gc

import pytest

from emulator.kernel.scheduler import Scheduler


def run(coro_fn):  # type: ignore[no-untyped-def]
    return asyncio.run(coro_fn())


def test_jobs_fire_in_due_order_and_on_time() -> None:
    fired: list[tuple[str, float]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        s = Scheduler(lambda key: fired.append((key, loop.time())))
        start = loop.time()
        for key, delay in [("c", 0.06), ("a", 0.02), ("b", 0.04)]:
            s.at(key, delay)
        assert len(s) == 3
        await asyncio.sleep(0.12)
        assert [k for k, _ in fired] == ["a", "b", "c"]
        for (_, at), delay in zip(fired, [0.02, 0.04, 0.06], strict=True):
            assert at - start >= delay
            assert at - start < delay + 0.05
        assert len(s) == 0

    run(main)


def test_rescheduling_replaces_and_cancel_removes() -> None:
    fired: list[str] = []

    async def main() -> None:
        s = Scheduler(fired.append)
        s.at("x", 0.01)
        s.at("x", 0.05)  # replaces: fires once, later
        s.at("y", 0.01)
        assert s.cancel("y") is True
        assert s.cancel("y") is False
        await asyncio.sleep(0.03)
        assert fired == []
        due = s.due_in("x")
        assert due is not None and 0 < due <= 0.05
        await asyncio.sleep(0.05)
        assert fired == ["x"]
        assert s.due_in("x") is None

    run(main)


def test_run_now_brings_a_job_forward() -> None:
    fired: list[str] = []

    async def main() -> None:
        s = Scheduler(fired.append)
        s.at("late", 3600)
        assert s.run_now("late") is True
        assert s.run_now("missing") is False
        await asyncio.sleep(0.01)
        assert fired == ["late"]

    run(main)


def test_an_earlier_job_rearms_the_timer() -> None:
    fired: list[str] = []

    async def main() -> None:
        s = Scheduler(fired.append)
        s.at("hour", 3600)
        s.at("soon", 0.01)
        await asyncio.sleep(0.05)
        assert fired == ["soon"]
        assert s.keys() == ["hour"]
        s.cancel_all()
        assert len(s) == 0

    run(main)


def test_a_failing_job_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    fired: list[str] = []

    def fire(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        fired.append(key)

    async def main() -> None:
        s = Scheduler(fire)
        for key in ("a", "bad", "b"):
            s.at(key, 0.0)
        await asyncio.sleep(0.01)

    run(main)
    assert sorted(fired) == ["a", "b"]
    assert "scheduled job bad failed" in caplog.text


def test_a_job_scheduled_while_firing_waits_for_its_own_turn() -> None:
    fired: list[str] = []

    async def main() -> None:
        s: Scheduler

        def fire(key: str) -> None:
            fired.append(key)
            if len(fired) < 5:
                s.at(key, 0.0)  # at once again: must not spin inside one timer callback

        s = Scheduler(fire)
        s.at("again", 0.0)
        await asyncio.sleep(0)
        assert fired == []  # nothing runs before the loop turns
        await asyncio.sleep(0.05)
        assert fired == ["again"] * 5

    run(main)


def test_many_cancels_keep_the_heap_bounded() -> None:
    async def main() -> None:
        s = Scheduler(lambda key: None)
        for i in range(20_000):
            s.at(f"k{i}", 60)
            s.cancel(f"k{i}")
        assert len(s) == 0
        assert len(s._heap) <= 2 * len(s) + 1024 + 1

    run(main)


def test_pending_jobs_are_invisible_to_the_garbage_collector() -> None:
    """What the design is for: 10,000 pending jobs add (almost) no GC-tracked objects."""

    async def main() -> None:
        s = Scheduler(lambda key: None)
        gc.collect()
        before = len(gc.get_objects())
        for i in range(10_000):
            s.at(f"ws_CO_{i}", 60)
        gc.collect()
        assert len(gc.get_objects()) - before < 100
        s.cancel_all()

    run(main)
