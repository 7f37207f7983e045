"""Where scenario files are, in which order they load and how they are named; reading one
imports the YAML reader (reader.py) only then."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from emulator.scenario.errors import ScenarioError
from emulator.scenario.model import Loaded

__all__ = ["bundled_dir", "read_dir", "read_file", "scenario_files", "scenario_names",
           "source_name"]


def scenario_names(folder: Path) -> list[str]:
    """The names of a folder's scenario files in load order (by name); one scandir, so the
    snapshot's check at every start-up makes no Path or stat per file."""
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if _is_scenario_file(entry))


def _is_scenario_file(entry: os.DirEntry[str]) -> bool:
    """`Path.suffix in (".yaml", ".yml") and Path.is_file()`, as the folder was read before:
    pathlib's suffix (`..yaml` has one, `.yaml` none), and an entry that cannot be checked (a
    symlink loop, a link through a file) is no file rather than an error."""
    dot = entry.name.rfind(".")
    if not 0 < dot < len(entry.name) - 1 or entry.name[dot:] not in (".yaml", ".yml"):
        return False
    try:
        return entry.is_file()
    except OSError:
        return False


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files of a folder in load order (by name)."""
    return [folder / name for name in scenario_names(folder)]


def source_name(path: Path, bundled: bool, folder: Path | None = None) -> str:
    """How the timeline, the admin API and the log name a scenario's file: `bundled: x.yaml`
    for the bundled set (not the install path), a user file relative to its --scenarios folder
    (the path as given when it was loaded on its own)."""
    if bundled:
        return f"bundled: {path.name}"
    if folder is not None:
        try:
            return str(path.relative_to(folder))
        except ValueError:
            pass
    return str(path)


def read_file(path: Path, bundled: bool, folder: Path | None = None) -> Loaded:
    """One scenario file read from its YAML; `folder`: the --scenarios folder it was found in."""
    from emulator.scenario import reader  # PyYAML: for a user's files or a stale snapshot

    return reader.load(path, bundled, source_name(path, bundled, folder))


def read_dir(path: Path, *, bundled: bool) -> list[Loaded]:
    """Every scenario file of a folder read from its YAML, by file name (no tier checks)."""
    if not path.exists():
        raise ScenarioError(path, None, None, "scenario folder does not exist")
    if not path.is_dir():
        raise ScenarioError(path, None, None, "scenario folder is not a directory")
    return [read_file(p, bundled, path) for p in scenario_files(path)]


def bundled_dir() -> Path:
    """The bundled scenarios: `scenarios/` beside the package in a checkout (and an editable
    install), else the copy a wheel installs under its data folder (share/daraja-emulator/)."""
    checkout = Path(__file__).resolve().parents[2] / "scenarios"
    if (checkout / "success.yaml").is_file():
        return checkout
    import site
    import sysconfig

    for base in (sysconfig.get_path("data"), sys.prefix, site.getuserbase()):
        installed = Path(base) / "share" / "daraja-emulator" / "scenarios"
        if installed.is_dir():
            return installed
    return checkout  # missing: the loader then names this folder in its error
