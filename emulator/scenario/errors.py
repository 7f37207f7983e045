"""ScenarioError: what the loader raises, importable without PyYAML (start-up reads the bundled
set from its snapshot and needs only the error type)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["ScenarioError"]


class ScenarioError(Exception):
    """A scenario file (or set of files) is unusable; says where, so the user can fix it."""

    def __init__(self, file: str | Path, line: int | None, field: str | None, message: str):
        self.file = str(file)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = "" if self.field is None else f"field '{self.field}': "
        return f"{where}: {what}{self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.line, self.field, self.message))
