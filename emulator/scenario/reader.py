"""One scenario YAML file read into a `Loaded` scenario: the only scenario module that imports
PyYAML. The loader imports it for a user's files, and for the bundled set only when its snapshot
is stale (see snapshot.py), so serving the bundled set never loads PyYAML."""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from emulator.scenario.errors import ScenarioError
from emulator.scenario.fields import scenario_from
from emulator.scenario.model import Loaded
from emulator.scenario.nodes import File

__all__ = ["load"]


def _yaml_error(name: str, text: str, exc: yaml.YAMLError) -> ScenarioError:
    """A YAML syntax error as a ScenarioError at the line the parser complained about."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    position = getattr(exc, "position", None)  # ReaderError: bad character, no mark
    if line is None and isinstance(position, int):
        line = text.count("\n", 0, position) + 1
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{problem} ({context})" if context else problem
    return ScenarioError(name, line, None, f"invalid YAML: {detail}")


# libyaml's composer, when PyYAML has it: a tenth of the pure-Python one's time, the same nodes
# and lines (only a plain scalar's style reads '' instead of None, which nothing here looks at)
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(name: str, text: str, trusted: bool = False) -> Node | None:
    """The file's node tree. The bundled files (`trusted`, known good: tests load each) go
    through libyaml when it is there, a seventh of start-up less; a user's file always goes
    through PyYAML's own parser, whose error messages the loader's reports quote."""
    if trusted and _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # then as any file, for PyYAML's own words
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(name, text, exc) from None
    except RecursionError:
        raise ScenarioError(name, None, None, "invalid YAML: nested too deeply") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, None, f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ScenarioError(path, None, None, f"cannot read: {exc.strerror or exc}") from None


def load(path: Path, bundled: bool, name: str) -> Loaded:
    """The file at `path` as a scenario, `name` its source name (see files.source_name)."""
    f = File(str(path))
    top = _compose(f.name, _read(path), trusted=bundled)
    if top is None or (isinstance(top, ScalarNode) and f.scalar(top, None) is None):
        raise ScenarioError(f.name, 1, None, "file is empty; expected a mapping of scenario fields")
    if not isinstance(top, MappingNode):
        raise ScenarioError(
            f.name, 1, None, f"expected a mapping of scenario fields, got {f.got(top)}"
        )
    return scenario_from(f, top, path, bundled, name)


