"""How the QA subcommands print: aligned tables, local clock times, clipped text."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO


def table(header: list[str], rows: list[list[str]], out: TextIO) -> None:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def clock(iso: str | None, ms: bool = False) -> str:
    """An ISO timestamp as local wall-clock time, which is what a tester's eyes compare."""
    if not iso:
        return "--:--:--"
    moment = datetime.fromisoformat(iso).astimezone()
    return moment.strftime("%H:%M:%S.%f")[:12] if ms else moment.strftime("%H:%M:%S")


def delay(delay: list[float]) -> str:
    low, high = delay
    return f"{low:g}s" if low == high else f"{low:g}-{high:g}s"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def attempt(a: dict[str, Any]) -> str:
    """One POST (callback or result) and what came of it."""
    outcome = a["status"] if a["status"] is not None else a["error"]
    return f"POST {a['url']} -> {outcome} ({a['latency_ms']:.0f} ms)"
