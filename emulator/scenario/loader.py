"""Read scenario YAML files into `Scenario` objects; the only module that imports yaml.

One scenario per file. Every field, with its rules::

    name: cancelled              # optional; defaults to the file stem; [a-z0-9][a-z0-9_-]*
    description: The customer presses Cancel on the PIN prompt.   # optional string
    result_code: 1032            # required: an int >= 0, or a non-numeric string code (SFC_IC0003)
    result_desc: ...             # optional; defaults to the catalogue text for the code
                                 #   (emulator.kernel.texts); required when the code is not in it
    delay: [5, 15]               # required: seconds, a number >= 0 or [min, max], 0 <= min <= max
    callback: once               # optional: once | never | twice (default once)
    duplicate_gap: 1             # optional number >= 0; seconds between the two posts of `twice`
    balance: empty               # optional: empty | omit (default empty); the success Balance item
    default: false               # optional bool; the scenario used when no other one matches
    manual: false                # optional bool; wait for a decision from the admin API
    manual_timeout: 60           # optional number > 0; real seconds before a manual push ends 1037
    match:                       # optional mapping; every condition given must hold
      phones: ["254700001032"]   # 12-digit MSISDNs 2547XXXXXXXX / 2541XXXXXXXX (str or int)
      amount: 5                  # an int >= 1, or [min, max] inclusive
      account_references: ["FAIL-*"]   # glob patterns, case-sensitive

A C2B scenario (which payer phones' C2B payments play out how) has `c2b:` instead of the
outcome fields, and only name, description and match besides::

    c2b:
      validation: timeout        # answer | timeout (default answer): timeout ignores the answer
      confirmation: never        # once | never | twice (default once)
      delay: [1, 3]              # seconds before the validation or confirmation POST
      duplicate_gap: 2           # seconds between the two posts of `twice`

An initiator scenario (how a B2C, B2B, Reversal, Transaction Status or Account Balance request
ends; B2C ones match the recipient's phone) has `initiator:` instead of the outcome fields::

    initiator:
      result_code: 2001          # as result_code above; result_desc defaults to the catalogue's
      result: once               # once | never | twice | queue-timeout (default once)
      delay: [1, 3]              # seconds before the result
      apis: [b2c, b2b]           # optional: b2c, b2b, reversal, txstatus, balance (default all)

The loader is strict because a typo that is silently ignored makes a test pass for the wrong
reason: unknown or repeated keys, wrong types (booleans are not numbers, "5" is not a number) and
out-of-range values are all `ScenarioError`s naming the file, the 1-based line and the field.
`duplicate_gap` without `callback: twice` and `manual_timeout` without `manual: true` are accepted
and have no effect. A scenario with no `match` is valid: it can still be chosen by name.

`load_scenarios` merges the bundled set (``scenarios/``) with the user's folders: a user
scenario replaces the bundled one of the same name, and a user `default: true` takes the default
over from the bundled one. Within one tier (bundled, or all user folders together) names, the
default and claimed phones must be unique.
"""

from __future__ import annotations

import math
import re
import site
import sys
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.faults.model import UNMATCHABLE, Endpoint, FaultKind, FaultSpec
from emulator.kernel.formats import LOCAL_MSISDN, MSISDN
from emulator.kernel.texts import describe, describe_initiator
from emulator.scenario.model import (
    INITIATOR_APIS,
    BalanceItem,
    C2BSpec,
    Delay,
    Delivery,
    InitiatorSpec,
    Match,
    ResultMode,
    Scenario,
    Validation,
)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
PHONE_RE = MSISDN  # the one definition, ASCII digits only
_STRING_CODE_RE = re.compile(r"[A-Za-z0-9_.-]+")
_INT_RE = re.compile(r"[+-]?\d+")
_LOCAL_PHONE_RE = LOCAL_MSISDN

_E = TypeVar("_E", bound=Enum)

# What SafeConstructor raises on odd scalars: `!foo x`, `!!int x`, `!!bool x`, `!!float`, ...
_SCALAR_ERRORS = (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, IndexError)


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


# --------------------------------------------------------------------------- node helpers


def _line(node: Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _show(value: Any) -> str:
    """A value as the user wrote it in YAML terms, short enough for one message line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = format(value, "g") if isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class _File:
    """Per-file reading state: the file name for errors and a fresh YAML constructor."""

    name: str
    constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def fail(self, node: Node | None, path: str | None, message: str) -> NoReturn:
        raise ScenarioError(self.name, _line(node), path, message)

    def got(self, node: Node) -> str:
        """What a node holds, for 'expected X, got Y' messages."""
        if isinstance(node, SequenceNode):
            return "a list"
        if isinstance(node, MappingNode):
            return "a mapping"
        return _show(self.scalar(node, None))

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


def _fields(
    f: _File, node: MappingNode, prefix: str, known: Sequence[str]
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
            first = _line(found[name][0])
            f.fail(key, path, f"given twice (first at line {first})")
        found[name] = (key, value)
    return found


# --------------------------------------------------------------------------- value parsers


def _string(f: _File, node: Node, path: str) -> str:
    value = f.value(node, path, "a string")
    if not isinstance(value, str):
        f.fail(node, path, f"must be a string, got {_show(value)} (quote it)")
    return value


def _bool(f: _File, node: Node, path: str) -> bool:
    value = f.value(node, path, "true or false")
    if not isinstance(value, bool):
        f.fail(node, path, f"must be true or false, got {_show(value)}")
    return value


def _number(f: _File, node: Node, path: str, expected: str = "a number of seconds") -> float:
    value = f.value(node, path, expected)
    if not _is_number(value):
        f.fail(node, path, f"must be {expected}, got {_show(value)}")
    try:
        number = float(value)
    except OverflowError:
        f.fail(node, path, "is too large")
    if not math.isfinite(number):
        f.fail(node, path, f"must be a finite number, got {_show(value)}")
    return number


def _seconds(f: _File, node: Node, path: str, *, positive: bool = False) -> float:
    value = _number(f, node, path)
    if value < 0 or (positive and value == 0):
        f.fail(node, path, f"must be {'> 0' if positive else '>= 0'}, got {_show(value)}")
    return value


def _int(f: _File, node: Node, path: str, minimum: int, expected: str) -> int:
    value = f.value(node, path, expected)
    if not isinstance(value, int) or isinstance(value, bool):
        f.fail(node, path, f"must be {expected}, got {_show(value)}")
    if value < minimum:
        f.fail(node, path, f"must be >= {minimum}, got {value}")
    return value


def _choice(f: _File, node: Node, path: str, enum: type[_E]) -> _E:
    options = ", ".join(str(member.value) for member in enum)
    value = f.value(node, path, f"one of: {options}")
    for member in enum:
        if value == member.value:
            return member
    f.fail(node, path, f"must be one of: {options}, got {_show(value)}")


def _pair(f: _File, node: Node, path: str, expected: str) -> tuple[Node, Node]:
    """The two item nodes of a [min, max] list."""
    if not isinstance(node, SequenceNode) or len(node.value) != 2:
        got = f"a list of {len(node.value)}" if isinstance(node, SequenceNode) else f.got(node)
        f.fail(node, path, f"must be {expected}, got {got}")
    return node.value[0], node.value[1]


def _items(f: _File, node: Node, path: str, expected: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        f.fail(node, path, f"must be {expected}, got {f.got(node)}")
    return list(node.value)


# --------------------------------------------------------------------------- scenario fields


def _name(f: _File, node: Node | None, stem: str) -> str:
    if node is None:
        if not NAME_RE.fullmatch(stem):
            f.fail(
                None,
                "name",
                f"the file stem {stem!r} is not a valid name "
                f"([a-z0-9][a-z0-9_-]*); rename the file or add a name: field",
            )
        return stem
    name = _string(f, node, "name")
    if not NAME_RE.fullmatch(name):
        f.fail(node, "name", f"must match [a-z0-9][a-z0-9_-]*, got {_show(name)}")
    return name


def _result_code(f: _File, node: Node) -> int | str:
    expected = "an integer >= 0 or a string code such as SFC_IC0003"
    value = f.value(node, "result_code", expected)
    if isinstance(value, str):
        if _INT_RE.fullmatch(value.strip()):
            f.fail(node, "result_code", f"numeric codes must be unquoted numbers, got {value!r}")
        if not _STRING_CODE_RE.fullmatch(value):
            f.fail(node, "result_code", f"must be {expected}, got {_show(value)}")
        return value
    return _int(f, node, "result_code", 0, expected)


def _result_desc(f: _File, node: Node | None, code: int | str, code_node: Node) -> str:
    if node is None:
        known = describe(code)
        if known is None:
            f.fail(
                code_node,
                "result_desc",
                f"result code {code!r} is not in the catalogue, so result_desc is required",
            )
        return known
    desc = _string(f, node, "result_desc")
    if not desc.strip():
        f.fail(node, "result_desc", "must not be empty")
    return desc


def _delay(f: _File, node: Node) -> Delay:
    expected = "a number of seconds or [min, max]"
    if not isinstance(node, SequenceNode):
        if isinstance(node, MappingNode) or not _is_number(f.scalar(node, "delay")):
            f.fail(node, "delay", f"must be {expected}, got {f.got(node)}")
        seconds = _seconds(f, node, "delay")
        return Delay(seconds, seconds)
    low_node, high_node = _pair(f, node, "delay", expected)
    low = _seconds(f, low_node, "delay[0]")
    high = _seconds(f, high_node, "delay[1]")
    if low > high:
        f.fail(node, "delay", f"min must be <= max, got [{_show(low)}, {_show(high)}]")
    return Delay(low, high)


def _phone(f: _File, node: Node, path: str) -> str:
    value = f.value(node, path, "a 12-digit phone number")
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not PHONE_RE.fullmatch(text):
        hint = ""
        if text is not None and _LOCAL_PHONE_RE.fullmatch(text):
            hint = f" (write it as 254{text[1:]})"
        f.fail(
            node,
            path,
            f"must be a phone number 2547XXXXXXXX or 2541XXXXXXXX, got {_show(value)}{hint}",
        )
    return text


def _phones(f: _File, node: Node) -> dict[str, tuple[int | None, str]]:
    """Phone -> (line, field path), so tier checks can point at the claiming line."""
    phones: dict[str, tuple[int | None, str]] = {}
    for index, item in enumerate(_items(f, node, "match.phones", "a list of phone numbers")):
        path = f"match.phones[{index}]"
        phone = _phone(f, item, path)
        if phone in phones:
            f.fail(item, path, f"phone {phone} is listed twice (first at line {phones[phone][0]})")
        phones[phone] = (_line(item), path)
    return phones


def _amount(f: _File, node: Node) -> tuple[int, int]:
    expected = "a whole number of shillings >= 1, or [min, max]"
    if not isinstance(node, SequenceNode):
        amount = _int(f, node, "match.amount", 1, expected)
        return amount, amount
    low_node, high_node = _pair(f, node, "match.amount", expected)
    low = _int(f, low_node, "match.amount[0]", 1, "a whole number of shillings >= 1")
    high = _int(f, high_node, "match.amount[1]", 1, "a whole number of shillings >= 1")
    if low > high:
        f.fail(node, "match.amount", f"min must be <= max, got [{low}, {high}]")
    return low, high


def _patterns(f: _File, node: Node) -> tuple[str, ...]:
    items = _items(f, node, "match.account_references", "a list of glob patterns")
    return tuple(
        _string(f, item, f"match.account_references[{index}]") for index, item in enumerate(items)
    )


_MATCH_FIELDS = ("phones", "amount", "account_references")


def _match(f: _File, node: Node) -> tuple[Match, dict[str, tuple[int | None, str]]]:
    if not isinstance(node, MappingNode):
        f.fail(node, "match", f"must be a mapping of {', '.join(_MATCH_FIELDS)}, got {f.got(node)}")
    given = _fields(f, node, "match.", _MATCH_FIELDS)
    phones = _phones(f, given["phones"][1]) if "phones" in given else {}
    low, high = _amount(f, given["amount"][1]) if "amount" in given else (None, None)
    refs = _patterns(f, given["account_references"][1]) if "account_references" in given else ()
    match = Match(frozenset(phones), low, high, refs)
    return match, phones


# --------------------------------------------------------------------------- one file


_FIELDS = (
    "name",
    "description",
    "result_code",
    "result_desc",
    "delay",
    "callback",
    "duplicate_gap",
    "balance",
    "default",
    "manual",
    "manual_timeout",
    "match",
    "fault",
    "c2b",
    "initiator",
)
_INITIATOR_FIELDS = ("result_code", "result_desc", "result", "delay", "duplicate_gap", "apis")
_C2B_FIELDS = ("validation", "confirmation", "delay", "duplicate_gap")
_FAULT_FIELDS = ("kind", "endpoints", "times", "seconds")
_OUTCOME_ONLY = ("result_code", "result_desc", "delay", "callback", "duplicate_gap", "balance",
                 "manual", "manual_timeout")


@dataclass(frozen=True)
class _Loaded:
    """A scenario plus the lines the tier checks need to point at."""

    scenario: Scenario
    name_line: int | None
    default_line: int | None
    phones: dict[str, tuple[int | None, str]]
    path: str = ""  # the file's full path, for errors (scenario.source is the short name)


def _optional(
    given: dict[str, tuple[Node, Node]], key: str, parse: Callable[[Node], Any]
) -> dict[str, Any]:
    """{key: parsed value} if the field was given, else {} so the dataclass default applies."""
    return {key: parse(given[key][1])} if key in given else {}


def _require(f: _File, given: dict[str, tuple[Node, Node]], top: MappingNode, key: str) -> Node:
    if key not in given:
        f.fail(top, key, "required field is missing")
    return given[key][1]


def _fault(f: _File, node: Node) -> FaultSpec:
    """`fault: spike-arrest`, or a mapping with kind, endpoints, times and seconds."""
    if isinstance(node, ScalarNode):
        return FaultSpec(_choice(f, node, "fault", FaultKind))
    if not isinstance(node, MappingNode):
        f.fail(node, "fault", f"must be a fault kind or a mapping of {', '.join(_FAULT_FIELDS)}, "
               f"got {f.got(node)}")
    given = _fields(f, node, "fault.", _FAULT_FIELDS)
    if "kind" not in given:
        f.fail(node, "fault.kind", "required field is missing")
    spec: dict[str, Any] = {"kind": _choice(f, given["kind"][1], "fault.kind", FaultKind)}
    if "endpoints" in given:
        matchable = ", ".join(e.value for e in Endpoint if e not in UNMATCHABLE)
        items = _items(f, given["endpoints"][1], "fault.endpoints", f"a list of {matchable}")
        endpoints = [_choice(f, n, f"fault.endpoints[{i}]", Endpoint) for i, n in enumerate(items)]
        if not endpoints or UNMATCHABLE & set(endpoints):
            f.fail(given["endpoints"][1], "fault.endpoints",
                   f"must list some of {matchable} (OAuth and C2B register requests carry no "
                   "phone to match)")
        spec["endpoints"] = frozenset(endpoints)
    if "times" in given:
        spec["times"] = _int(f, given["times"][1], "fault.times", 1, "a whole number >= 1")
    if "seconds" in given:
        spec["seconds"] = _seconds(f, given["seconds"][1], "fault.seconds", positive=True)
    return FaultSpec(**spec)


def _fault_scenario(
    f: _File, top: MappingNode, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool,
    source: str,
) -> _Loaded:
    """A scenario that fails the request instead of creating a transaction."""
    for key in (*_OUTCOME_ONLY, "default"):
        if key in given and not (key == "default" and not _bool(f, given[key][1], key)):
            f.fail(given[key][0], key, "a fault scenario never creates a transaction, so it "
                   "takes no outcome fields and cannot be the default")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="FAULT", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=_string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, fault=_fault(f, given["fault"][1]),
    )
    name_line = _line(given["name"][0]) if "name" in given else None
    return _Loaded(scenario, name_line, None, phones, f.name)


def _c2b(f: _File, node: Node) -> C2BSpec:
    if not isinstance(node, MappingNode):
        f.fail(node, "c2b", f"must be a mapping of {', '.join(_C2B_FIELDS)}, got {f.got(node)}")
    given = _fields(f, node, "c2b.", _C2B_FIELDS)
    spec: dict[str, Any] = {
        **_optional(given, "validation", lambda n: _choice(f, n, "c2b.validation", Validation)),
        **_optional(given, "confirmation",
                    lambda n: _choice(f, n, "c2b.confirmation", Delivery)),
        **_optional(given, "duplicate_gap", lambda n: _seconds(f, n, "c2b.duplicate_gap")),
    }
    if "delay" in given:
        delay = _delay(f, given["delay"][1])
        spec["delay"] = delay
    return C2BSpec(**spec)


def _c2b_scenario(
    f: _File, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool, source: str
) -> _Loaded:
    """A scenario for C2B payments, matched by the payer's phone."""
    for key in (*_OUTCOME_ONLY, "default", "fault"):
        if key in given:
            f.fail(given[key][0], key, "a C2B scenario takes only name, description, match and "
                   "c2b")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="C2B", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=_string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, c2b=_c2b(f, given["c2b"][1]),
    )
    name_line = _line(given["name"][0]) if "name" in given else None
    return _Loaded(scenario, name_line, None, phones, f.name)


def _apis(f: _File, node: Node) -> frozenset[str]:
    apis = set()
    for item in _items(f, node, "initiator.apis", "a list of API names"):
        value = f.value(item, "initiator.apis", "an API name")
        if value not in INITIATOR_APIS:
            f.fail(item, "initiator.apis", f"must be one of: {', '.join(INITIATOR_APIS)}, "
                   f"got {_show(value)}")
        apis.add(value)
    return frozenset(apis)


def _initiator(f: _File, node: Node) -> InitiatorSpec:
    if not isinstance(node, MappingNode):
        f.fail(node, "initiator",
               f"must be a mapping of {', '.join(_INITIATOR_FIELDS)}, got {f.got(node)}")
    given = _fields(f, node, "initiator.", _INITIATOR_FIELDS)
    spec: dict[str, Any] = {
        **_optional(given, "result", lambda n: _choice(f, n, "initiator.result", ResultMode)),
        **_optional(given, "delay", lambda n: _delay(f, n)),
        **_optional(given, "duplicate_gap",
                    lambda n: _seconds(f, n, "initiator.duplicate_gap")),
        **_optional(given, "apis", lambda n: _apis(f, n)),
    }
    if "result_code" in given:
        code_node = given["result_code"][1]
        spec["result_code"] = code = _result_code(f, code_node)
        if "result_desc" in given:
            spec["result_desc"] = _string(f, given["result_desc"][1], "initiator.result_desc")
        elif code != 0:
            known = describe_initiator(code)
            if known is None:
                f.fail(code_node, "initiator.result_desc", f"result code {code!r} is not in "
                       "the catalogue, so result_desc is required")
            spec["result_desc"] = known
    return InitiatorSpec(**spec)


def _initiator_scenario(
    f: _File, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool, source: str
) -> _Loaded:
    """A scenario for the initiator APIs; B2C ones match the recipient's phone."""
    for key in (*_OUTCOME_ONLY, "default", "fault", "c2b"):
        if key in given:
            f.fail(given[key][0], key, "an initiator scenario takes only name, description, "
                   "match and initiator")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="INITIATOR", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=_string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, initiator=_initiator(f, given["initiator"][1]),
    )
    name_line = _line(given["name"][0]) if "name" in given else None
    return _Loaded(scenario, name_line, None, phones, f.name)


def _scenario(f: _File, top: MappingNode, path: Path, bundled: bool, source: str) -> _Loaded:
    given = _fields(f, top, "", _FIELDS)
    if "initiator" in given:
        return _initiator_scenario(f, given, path, bundled, source)
    if "c2b" in given:
        return _c2b_scenario(f, given, path, bundled, source)
    if "fault" in given:
        return _fault_scenario(f, top, given, path, bundled, source)
    code_node = _require(f, given, top, "result_code")
    delay_node = _require(f, given, top, "delay")
    name = _name(f, given["name"][1] if "name" in given else None, path.stem)
    code = _result_code(f, code_node)
    desc = _result_desc(
        f, given["result_desc"][1] if "result_desc" in given else None, code, code_node
    )
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    extra: dict[str, Any] = {
        **_optional(given, "description", lambda n: _string(f, n, "description").strip()),
        **_optional(given, "callback", lambda n: _choice(f, n, "callback", Delivery)),
        **_optional(given, "duplicate_gap", lambda n: _seconds(f, n, "duplicate_gap")),
        **_optional(given, "balance", lambda n: _choice(f, n, "balance", BalanceItem)),
        **_optional(given, "default", lambda n: _bool(f, n, "default")),
        **_optional(given, "manual", lambda n: _bool(f, n, "manual")),
        **_optional(
            given, "manual_timeout", lambda n: _seconds(f, n, "manual_timeout", positive=True)
        ),
    }
    scenario = Scenario(
        name=name,
        result_code=code,
        result_desc=desc,
        delay=_delay(f, delay_node),
        match=match,
        source=source,
        bundled=bundled,
        **extra,
    )
    return _Loaded(
        scenario,
        _line(given["name"][0]) if "name" in given else None,
        _line(given["default"][0]) if "default" in given else None,
        phones,
        f.name,
    )


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


def _compose(name: str, text: str) -> Node | None:
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


def _load(path: Path, bundled: bool, folder: Path | None = None) -> _Loaded:
    f = _File(str(path))
    top = _compose(f.name, _read(path))
    if top is None or (isinstance(top, ScalarNode) and f.scalar(top, None) is None):
        raise ScenarioError(f.name, 1, None, "file is empty; expected a mapping of scenario fields")
    if not isinstance(top, MappingNode):
        raise ScenarioError(
            f.name, 1, None, f"expected a mapping of scenario fields, got {f.got(top)}"
        )
    return _scenario(f, top, path, bundled, source_name(path, bundled, folder))


def _load_dir(path: Path, bundled: bool) -> list[_Loaded]:
    if not path.exists():
        raise ScenarioError(path, None, None, "scenario folder does not exist")
    if not path.is_dir():
        raise ScenarioError(path, None, None, "scenario folder is not a directory")
    files = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    return [_load(p, bundled, path) for p in sorted(files, key=lambda p: p.name)]


# --------------------------------------------------------------------------- public API


def load_file(path: Path, *, bundled: bool = False) -> Scenario:
    """One scenario file, strictly validated; raises ScenarioError naming file, line, field."""
    return _load(Path(path), bundled).scenario


def load_dir(path: Path, *, bundled: bool = False) -> list[Scenario]:
    """Every *.yaml / *.yml file in a folder, sorted by file name (cross-file rules not checked)."""
    return [loaded.scenario for loaded in _load_dir(Path(path), bundled)]


def bundled_dir() -> Path:
    """The bundled scenarios: `scenarios/` beside the package in a checkout (and an editable
    install), else the copy a wheel installs under its data folder (share/daraja-emulator/)."""
    checkout = Path(__file__).resolve().parents[2] / "scenarios"
    if (checkout / "success.yaml").is_file():
        return checkout
    for base in (sysconfig.get_path("data"), sys.prefix, site.getuserbase()):
        installed = Path(base) / "share" / "daraja-emulator" / "scenarios"
        if installed.is_dir():
            return installed
    return checkout  # missing: the loader then names this folder in its error


def _check_tier(tier: list[_Loaded]) -> None:
    """Within one tier names, the default and phones must be unique, else matching is ambiguous."""
    names: dict[str, _Loaded] = {}
    default: _Loaded | None = None
    phones: dict[tuple[str, str], _Loaded] = {}  # (kind of scenario, phone) -> claimant
    for loaded in tier:
        s = loaded.scenario
        if s.name in names:
            raise ScenarioError(
                loaded.path,
                loaded.name_line,
                "name",
                f"scenario name {s.name!r} is also used by {names[s.name].path}",
            )
        names[s.name] = loaded
        if s.default and default is not None:
            raise ScenarioError(
                loaded.path,
                loaded.default_line,
                "default",
                f"only one scenario may have default: true; {default.path} "
                f"({default.scenario.name!r}) has it too",
            )
        default = loaded if s.default else default
        kind = "c2b" if s.c2b else "initiator" if s.initiator else "stk"  # one of each
        for phone, (line, path) in loaded.phones.items():
            if (kind, phone) in phones:
                other = phones[(kind, phone)]
                raise ScenarioError(
                    loaded.path,
                    line,
                    path,
                    f"phone {phone} is also claimed by scenario {other.scenario.name!r} in "
                    f"{other.path}",
                )
            phones[(kind, phone)] = loaded


def _merge(bundled: list[_Loaded], users: list[_Loaded]) -> list[Scenario]:
    """Bundled scenarios not replaced by name, then the user's; a user default demotes bundled."""
    user_names = {loaded.scenario.name for loaded in users}
    user_default = any(loaded.scenario.default for loaded in users)
    kept = [loaded.scenario for loaded in bundled if loaded.scenario.name not in user_names]
    if user_default:
        kept = [replace(s, default=False) if s.default else s for s in kept]
    return kept + [loaded.scenario for loaded in users]


def _no_default(bundled: list[_Loaded], users: list[_Loaded], label: str) -> ScenarioError:
    """Explain a missing default, pointing at a user file that replaced the bundled default."""
    replaced = {loaded.scenario.name for loaded in bundled if loaded.scenario.default}
    for loaded in users:
        s = loaded.scenario
        if s.name in replaced:
            return ScenarioError(
                loaded.path,
                loaded.name_line,
                "default",
                f"replaces the bundled default scenario {s.name!r} without "
                f"default: true, so no scenario is the default",
            )
    return ScenarioError(
        label, None, "default", "no scenario has default: true; mark exactly one as the default"
    )


def load_scenarios(
    user_dirs: Sequence[Path] = (), *, include_bundled: bool = True
) -> list[Scenario]:
    """The bundled set merged with the user's folders; exactly one scenario is the default."""
    dirs = ([bundled_dir()] if include_bundled else []) + [Path(d) for d in user_dirs]
    label = ", ".join(str(d) for d in dirs) or "<no scenario folders>"
    bundled = _load_dir(bundled_dir(), True) if include_bundled else []
    users = [loaded for d in user_dirs for loaded in _load_dir(Path(d), False)]
    _check_tier(bundled)
    _check_tier(users)
    final = _merge(bundled, users)
    if not final:
        raise ScenarioError(label, None, None, "no scenario files (*.yaml, *.yml) found")
    if not any(s.default for s in final):
        raise _no_default(bundled, users, label)
    return final
