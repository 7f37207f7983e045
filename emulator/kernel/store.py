"""Records of one kind, keyed, with a bounded history: the kernel's store, knowing no family.

A family hands in a `Codec` (record <-> JSON row) and gets a `Records` that keeps its open
records, the newest `keep` finished ones (older ones are forgotten, oldest first), and writes
every change through to the --state file when there is one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar

R = TypeVar("R")
Row = dict[str, Any]


class Persistence(Protocol):
    """Where rows are written for durability; see persistence.StateFile."""

    def save(self, kind: str, key: str, row: Row) -> None: ...
    def remove(self, kind: str, keys: list[str]) -> None: ...
    def clear(self, kind: str) -> None: ...
    def rows(self, kind: str) -> list[Row]: ...


class Codec(Protocol[R]):
    """How a family's record becomes a JSON row and back (plain values only, no code)."""

    kind: str  # the rows' label in the state file, e.g. "stk"

    def key(self, record: R) -> str: ...
    def to_row(self, record: R) -> Row: ...
    def from_row(self, row: Row) -> R: ...


class Records(Generic[R]):
    def __init__(self, codec: Codec[R], keep: int, persistence: Persistence | None = None) -> None:
        self._codec = codec
        self.keep = keep  # finished records kept for queries and inspection
        self._persistence = persistence
        self.by_key: dict[str, R] = {}  # maps key -> record, oldest first
        self._finished: deque[str] = deque()  # keys of finished records, in finishing order

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[R]:
        return iter(self.by_key.values())

    def get(self, key: str) -> R | None:
        return self.by_key.get(key)

    def add(self, record: R) -> None:
        """A new open record, written through."""
        self.by_key[self._codec.key(record)] = record
        self.save(record)

    def put(self, record: R, *, finished: bool) -> None:
        """A record read back from the state file: kept, not written again."""
        key = self._codec.key(record)
        self.by_key[key] = record
        if finished:
            self._finished.append(key)

    def save(self, record: R) -> None:
        """Record a change (a new state, a delivery attempt) in the state file."""
        if self._persistence is not None:
            codec = self._codec
            self._persistence.save(codec.kind, codec.key(record), codec.to_row(record))

    def discard(self, key: str) -> None:
        """Forget an open record as if it never was (an acceptance that failed half-way)."""
        if self.by_key.pop(key, None) is not None and self._persistence is not None:
            self._persistence.remove(self._codec.kind, [key])

    def finish(self, record: R) -> None:
        """The record is final: it joins the bounded history, evicting the oldest past `keep`."""
        self._finished.append(self._codec.key(record))
        self.save(record)
        evicted = []
        while len(self._finished) > self.keep:
            evicted.append(self._finished.popleft())
            self.by_key.pop(evicted[-1], None)
        if evicted and self._persistence is not None:
            self._persistence.remove(self._codec.kind, evicted)

    def reset(self) -> None:
        self.by_key = {}
        self._finished.clear()
        if self._persistence is not None:
            self._persistence.clear(self._codec.kind)

    def restore(self) -> list[R]:
        """Every stored record, oldest first, read back from the state file."""
        if self._persistence is None:
            return []
        return [self._codec.from_row(row) for row in self._persistence.rows(self._codec.kind)]
