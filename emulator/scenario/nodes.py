"""Typed reading of YAML nodes for the scenario loader: every value checked, every error a
ScenarioError naming the file, the 1-based line and the field."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NoReturn, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.scenario.errors import ScenarioError

_E = TypeVar("_E", bound=Enum)
_SCALAR_ERRORS = (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, IndexError)

# --------------------------------------------------------------------------- node helpers


def line_of(node: Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def show(value: Any) -> str:
    """A value as the user wrote it in YAML terms, short enough for one message line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = format(value, "g") if isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class File:
    """Per-file reading state: the file name for errors and a fresh YAML constructor."""

    name: str
    constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def fail(self, node: Node | None, path: str | None, message: str) -> NoReturn:
        raise ScenarioError(self.name, line_of(node), path, message)

    def got(self, node: Node) -> str:
        """What a node holds, for 'expected X, got Y' messages."""
        if isinstance(node, SequenceNode):
            return "a list"
        if isinstance(node, MappingNode):
            return "a mapping"
        return show(self.scalar(node, None))

    def scalar(self, node: Node, path: str | None) -> Any:
        """The Python value of a scalar node; odd tags (!!int x, !foo) become errors."""
        try:
            return self.constructor.construct_object(node)
        except _SCALAR_ERRORS as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.fail(node, path, f"cannot read value {node.value!r}: {reason}")

    def value(self, node: Node, path: str, expected: str) -> Any:
        """A scalar's value, or an error when the node is a list or mapping."""
        if not isinstance(node, ScalarNode):
            self.fail(node, path, f"must be {expected}, got {self.got(node)}")
        return self.scalar(node, path)


def fields_of(
    f: File, node: MappingNode, prefix: str, known: Sequence[str]
) -> dict[str, tuple[Node, Node]]:
    """Key name -> (key node, value node); unknown, repeated or non-word keys are errors."""
    found: dict[str, tuple[Node, Node]] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            f.fail(key, prefix or None, f"field names must be plain words, got {f.got(key)}")
        name = str(key.value)
        path = f"{prefix}{name}"
        if name not in known:
            f.fail(key, path, f"unknown field {name!r}; expected one of: {', '.join(known)}")
        if name in found:
            first = line_of(found[name][0])
            f.fail(key, path, f"given twice (first at line {first})")
        found[name] = (key, value)
    return found


# --------------------------------------------------------------------------- value parsers


def string(f: File, node: Node, path: str) -> str:
    value = f.value(node, path, "a string")
    if not isinstance(value, str):
        f.fail(node, path, f"must be a string, got {show(value)} (quote it)")
    return value


def boolean(f: File, node: Node, path: str) -> bool:
    value = f.value(node, path, "true or false")
    if not isinstance(value, bool):
        f.fail(node, path, f"must be true or false, got {show(value)}")
    return value


def number(f: File, node: Node, path: str, expected: str = "a number of seconds") -> float:
    value = f.value(node, path, expected)
    if not is_number(value):
        f.fail(node, path, f"must be {expected}, got {show(value)}")
    try:
        number = float(value)
    except OverflowError:
        f.fail(node, path, "is too large")
    if not math.isfinite(number):
        f.fail(node, path, f"must be a finite number, got {show(value)}")
    return number


def seconds(f: File, node: Node, path: str, *, positive: bool = False) -> float:
    value = number(f, node, path)
    if value < 0 or (positive and value == 0):
        f.fail(node, path, f"must be {'> 0' if positive else '>= 0'}, got {show(value)}")
    return value


def integer(f: File, node: Node, path: str, minimum: int, expected: str) -> int:
    value = f.value(node, path, expected)
    if not isinstance(value, int) or isinstance(value, bool):
        f.fail(node, path, f"must be {expected}, got {show(value)}")
    if value < minimum:
        f.fail(node, path, f"must be >= {minimum}, got {value}")
    return value


def choice(f: File, node: Node, path: str, enum: type[_E]) -> _E:
    options = ", ".join(str(member.value) for member in enum)
    value = f.value(node, path, f"one of: {options}")
    for member in enum:
        if value == member.value:
            return member
    f.fail(node, path, f"must be one of: {options}, got {show(value)}")


def pair(f: File, node: Node, path: str, expected: str) -> tuple[Node, Node]:
    """The two item nodes of a [min, max] list."""
    if not isinstance(node, SequenceNode) or len(node.value) != 2:
        got = f"a list of {len(node.value)}" if isinstance(node, SequenceNode) else f.got(node)
        f.fail(node, path, f"must be {expected}, got {got}")
    return node.value[0], node.value[1]


def items(f: File, node: Node, path: str, expected: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        f.fail(node, path, f"must be {expected}, got {f.got(node)}")
    return list(node.value)


