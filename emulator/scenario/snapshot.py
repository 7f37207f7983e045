"""The bundled scenarios as Python source, so that serving them needs neither PyYAML nor a parse
of every bundled file at start-up (together a tenth of the emulator's start-up).

`python -m emulator.scenario.snapshot` reads scenarios/*.yaml through the YAML reader, exactly as
any start-up would, and writes `bundled.py` beside this module: the same `Loaded` values as
constructor calls, and a KEY digesting the bundled files' bytes and the source of the modules
that turn YAML into scenarios. The loader takes the snapshot only while that KEY matches what is
on disk; after any change to a bundled file or to the reading code it reads the YAML as before,
so a stale snapshot is slower, never different. tests/test_scenario_snapshot.py fails while the
committed snapshot is stale, which is when to run the command again.
"""

from __future__ import annotations

import enum
import hashlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import replace

from emulator.scenario.errors import ScenarioError
from emulator.scenario.files import bundled_dir, read_dir, scenario_names
from emulator.scenario.model import Loaded

# what turns a YAML file into a Loaded scenario: a change to any of them can change the result
READERS = (
    "scenario/files.py", "scenario/reader.py", "scenario/fields.py", "scenario/nodes.py",
    "scenario/model.py",
    "faults/model.py", "kernel/texts.py", "kernel/formats.py",
)
SNAPSHOT = Path(__file__).with_name("bundled.py")


def key(folder: Path) -> str | None:
    """A digest of the folder's scenario files and of the reading code; None when one of them
    cannot be read (the loader then reads the YAML and reports what is wrong). Plain os calls:
    this runs at every start-up, over some 60 files."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    digest = hashlib.blake2b(digest_size=16)
    try:
        named = [(f"code:{rel}", os.path.join(package, rel)) for rel in READERS]
        named += [(f"file:{name}", os.path.join(folder, name)) for name in scenario_names(folder)]
        for name, path in named:
            with open(path, "rb") as file:
                data = file.read().replace(b"\r\n", b"\n")  # a checkout's line endings
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def read(folder: Path) -> list[Loaded] | None:
    """The bundled set from the snapshot, or None when it does not match `folder` as it is now."""
    try:
        from emulator.scenario import bundled
    except Exception:  # not written yet, or written for a model that has changed since: stale
        return None
    if bundled.KEY != key(folder):
        return None
    base = str(folder)
    return [replace(loaded, path=os.path.join(base, name)) for name, loaded in bundled.LOADED]


class _Writer:
    """Python expressions for the values a Loaded holds, and the imports they need."""

    def __init__(self) -> None:
        self.imports: dict[str, type] = {}

    def need(self, cls: type) -> str:
        known = self.imports.setdefault(cls.__name__, cls)
        if known is not cls:
            raise TypeError(f"two classes named {cls.__name__} in one snapshot")
        return cls.__name__

    def expr(self, value: Any) -> str:
        if isinstance(value, enum.Enum):  # before str and int: the model's enums are both
            return f"{self.need(type(value))}.{value.name}"
        if value is None or isinstance(value, (bool, int, str)):
            return repr(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"cannot write {value!r} into the snapshot")
            return repr(value)
        if isinstance(value, msgspec.Struct):
            return self.struct(value)
        if isinstance(value, tuple):
            items = [self.expr(v) for v in value]
            return f"({', '.join(items)},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return f"[{', '.join(self.expr(v) for v in value)}]"
        if isinstance(value, frozenset):
            return f"frozenset({{{', '.join(sorted(self.expr(v) for v in value))}}})" if value \
                else "frozenset()"
        if isinstance(value, dict):
            pairs = (f"{self.expr(k)}: {self.expr(v)}" for k, v in value.items())
            return "{" + ", ".join(pairs) + "}"
        raise TypeError(f"cannot write a {type(value).__name__} into the snapshot")

    def struct(self, value: msgspec.Struct) -> str:
        """A constructor call naming the fields that differ from their defaults."""
        args = []
        for f in msgspec.structs.fields(value):
            v = getattr(value, f.name)
            if f.default is not msgspec.NODEFAULT:
                default = f.default
            elif f.default_factory is not msgspec.NODEFAULT:
                default = f.default_factory()
            else:
                default = msgspec.NODEFAULT
            if type(v) is type(default) and v == default:
                continue
            args.append(f"{f.name}={self.expr(v)}")
        return f"{self.need(type(value))}({', '.join(args)})"


def render(loaded: Sequence[Loaded], digest: str) -> str:
    """The snapshot module's source for `loaded` (files named by their `path`)."""
    writer = _Writer()
    # each file's path is set at start-up (the folder there), not this machine's
    entries = [f"    ({Path(item.path).name!r}, {writer.expr(replace(item, path=''))}),"
               for item in loaded]
    modules: dict[str, list[str]] = {}
    for name, cls in writer.imports.items():
        modules.setdefault(cls.__module__, []).append(name)
    imports = "".join(f"from {module} import {', '.join(sorted(names))}\n"
                      for module, names in sorted(modules.items()))
    return (
        '"""The bundled scenarios, generated from scenarios/*.yaml by '
        "`python -m emulator.scenario.snapshot`:\ndo not edit. The loader uses them while KEY "
        'matches the files and the reading code (see snapshot.py)."""\n\n'
        f"{imports}\nKEY = {digest!r}\n\nLOADED = [\n" + "\n".join(entries) + "\n]\n"
    )


def write(target: Path | None = None) -> int:
    """Read the bundled YAML (never the snapshot) and write the snapshot (to SNAPSHOT unless
    told otherwise); the number of files."""
    folder = bundled_dir()
    digest = key(folder)
    if digest is None:
        raise OSError(f"cannot read the bundled scenarios in {folder}")
    loaded = read_dir(folder, bundled=True)
    (target or SNAPSHOT).write_text(render(loaded, digest), encoding="utf-8")
    return len(loaded)


def main(argv: Sequence[str]) -> int:
    if argv not in ([], ["--check"]):
        print("usage: python -m emulator.scenario.snapshot [--check]", file=sys.stderr)
        return 2
    if argv:
        fresh = read(bundled_dir()) is not None
        print("the snapshot is fresh" if fresh else "the snapshot is stale: run "
              "python -m emulator.scenario.snapshot")
        return 0 if fresh else 1
    try:
        count = write()
    except (ScenarioError, OSError) as exc:  # a bundled file the loader refuses: nothing written
        print(f"snapshot not written: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {SNAPSHOT} ({count} bundled scenarios)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
