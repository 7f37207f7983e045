"""One scenario file's mapping read into a Scenario: the fields of each kind (outcome, fault,
C2B, initiator), strictly, through the typed node readers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.faults.model import UNMATCHABLE, Endpoint, FaultKind, FaultSpec
from emulator.kernel.formats import MSISDN, msisdn_hint
from emulator.kernel.texts import describe, describe_initiator
from emulator.scenario import nodes
from emulator.scenario.model import (
    INITIATOR_APIS,
    BalanceItem,
    C2BSpec,
    Delay,
    Delivery,
    InitiatorSpec,
    Loaded,
    Match,
    ResultMode,
    Scenario,
    Validation,
)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
PHONE_RE = MSISDN  # the one definition, ASCII digits only
_STRING_CODE_RE = re.compile(r"[A-Za-z0-9_.-]+")
_INT_RE = re.compile(r"[+-]?\d+")





# --------------------------------------------------------------------------- scenario fields


def _name(f: nodes.File, node: Node | None, stem: str) -> str:
    if node is None:
        if not NAME_RE.fullmatch(stem):
            f.fail(
                None,
                "name",
                f"the file stem {stem!r} is not a valid name "
                f"([a-z0-9][a-z0-9_-]*); rename the file or add a name: field",
            )
        return stem
    name = nodes.string(f, node, "name")
    if not NAME_RE.fullmatch(name):
        f.fail(node, "name", f"must match [a-z0-9][a-z0-9_-]*, got {nodes.show(name)}")
    return name


def _result_code(f: nodes.File, node: Node) -> int | str:
    expected = "an integer >= 0 or a string code such as SFC_IC0003"
    value = f.value(node, "result_code", expected)
    if isinstance(value, str):
        if _INT_RE.fullmatch(value.strip()):
            f.fail(node, "result_code", f"numeric codes must be unquoted numbers, got {value!r}")
        if not _STRING_CODE_RE.fullmatch(value):
            f.fail(node, "result_code", f"must be {expected}, got {nodes.show(value)}")
        return value
    return nodes.integer(f, node, "result_code", 0, expected)


def _result_desc(f: nodes.File, node: Node | None, code: int | str, code_node: Node) -> str:
    if node is None:
        known = describe(code)
        if known is None:
            f.fail(
                code_node,
                "result_desc",
                f"result code {code!r} is not in the catalogue, so result_desc is required",
            )
        return known
    desc = nodes.string(f, node, "result_desc")
    if not desc.strip():
        f.fail(node, "result_desc", "must not be empty")
    return desc


def _delay(f: nodes.File, node: Node) -> Delay:
    expected = "a number of seconds or [min, max]"
    if not isinstance(node, SequenceNode):
        if isinstance(node, MappingNode) or not nodes.is_number(f.scalar(node, "delay")):
            f.fail(node, "delay", f"must be {expected}, got {f.got(node)}")
        seconds = nodes.seconds(f, node, "delay")
        return Delay(seconds, seconds)
    low_node, high_node = nodes.pair(f, node, "delay", expected)
    low = nodes.seconds(f, low_node, "delay[0]")
    high = nodes.seconds(f, high_node, "delay[1]")
    if low > high:
        f.fail(node, "delay", f"min must be <= max, got [{nodes.show(low)}, {nodes.show(high)}]")
    return Delay(low, high)


def _phone(f: nodes.File, node: Node, path: str) -> str:
    value = f.value(node, path, "a 12-digit phone number")
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not PHONE_RE.fullmatch(text):
        hint = "" if text is None else msisdn_hint(text)
        f.fail(
            node,
            path,
            f"must be a phone number 2547XXXXXXXX or 2541XXXXXXXX, got {nodes.show(value)}{hint}",
        )
    return text


def _phones(f: nodes.File, node: Node) -> dict[str, tuple[int | None, str]]:
    """Phone -> (line, field path), so tier checks can point at the claiming line."""
    phones: dict[str, tuple[int | None, str]] = {}
    for index, item in enumerate(nodes.items(f, node, "match.phones", "a list of phone numbers")):
        path = f"match.phones[{index}]"
        phone = _phone(f, item, path)
        if phone in phones:
            f.fail(item, path, f"phone {phone} is listed twice (first at line {phones[phone][0]})")
        phones[phone] = (nodes.line_of(item), path)
    return phones


def _amount(f: nodes.File, node: Node) -> tuple[int, int]:
    expected = "a whole number of shillings >= 1, or [min, max]"
    if not isinstance(node, SequenceNode):
        amount = nodes.integer(f, node, "match.amount", 1, expected)
        return amount, amount
    low_node, high_node = nodes.pair(f, node, "match.amount", expected)
    low = nodes.integer(f, low_node, "match.amount[0]", 1, "a whole number of shillings >= 1")
    high = nodes.integer(f, high_node, "match.amount[1]", 1, "a whole number of shillings >= 1")
    if low > high:
        f.fail(node, "match.amount", f"min must be <= max, got [{low}, {high}]")
    return low, high


def _patterns(f: nodes.File, node: Node) -> tuple[str, ...]:
    items = nodes.items(f, node, "match.account_references", "a list of glob patterns")
    return tuple(
        nodes.string(f, item, f"match.account_references[{index}]")
        for index, item in enumerate(items)
    )


_MATCH_FIELDS = ("phones", "amount", "account_references")


def _match(f: nodes.File, node: Node) -> tuple[Match, dict[str, tuple[int | None, str]]]:
    if not isinstance(node, MappingNode):
        f.fail(node, "match", f"must be a mapping of {', '.join(_MATCH_FIELDS)}, got {f.got(node)}")
    given = nodes.fields_of(f, node, "match.", _MATCH_FIELDS)
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


def _optional(
    given: dict[str, tuple[Node, Node]], key: str, parse: Callable[[Node], Any]
) -> dict[str, Any]:
    """{key: parsed value} if the field was given, else {} so the record's default applies."""
    return {key: parse(given[key][1])} if key in given else {}


def _require(
    f: nodes.File, given: dict[str, tuple[Node, Node]], top: MappingNode, key: str
) -> Node:
    if key not in given:
        f.fail(top, key, "required field is missing")
    return given[key][1]


def _fault(f: nodes.File, node: Node) -> FaultSpec:
    """`fault: spike-arrest`, or a mapping with kind, endpoints, times and seconds."""
    if isinstance(node, ScalarNode):
        return FaultSpec(nodes.choice(f, node, "fault", FaultKind))
    if not isinstance(node, MappingNode):
        f.fail(node, "fault", f"must be a fault kind or a mapping of {', '.join(_FAULT_FIELDS)}, "
               f"got {f.got(node)}")
    given = nodes.fields_of(f, node, "fault.", _FAULT_FIELDS)
    if "kind" not in given:
        f.fail(node, "fault.kind", "required field is missing")
    spec: dict[str, Any] = {"kind": nodes.choice(f, given["kind"][1], "fault.kind", FaultKind)}
    if "endpoints" in given:
        matchable = ", ".join(e.value for e in Endpoint if e not in UNMATCHABLE)
        items = nodes.items(f, given["endpoints"][1], "fault.endpoints", f"a list of {matchable}")
        endpoints = [nodes.choice(f, n, f"fault.endpoints[{i}]", Endpoint)
                     for i, n in enumerate(items)]
        if not endpoints or UNMATCHABLE & set(endpoints):
            f.fail(given["endpoints"][1], "fault.endpoints",
                   f"must list some of {matchable} (OAuth and C2B register requests carry no "
                   "phone to match)")
        spec["endpoints"] = frozenset(endpoints)
    if "times" in given:
        spec["times"] = nodes.integer(f, given["times"][1], "fault.times", 1, "a whole number >= 1")
    if "seconds" in given:
        spec["seconds"] = nodes.seconds(f, given["seconds"][1], "fault.seconds", positive=True)
    return FaultSpec(**spec)


def _fault_scenario(
    f: nodes.File, top: MappingNode, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool,
    source: str,
) -> Loaded:
    """A scenario that fails the request instead of creating a transaction."""
    for key in (*_OUTCOME_ONLY, "default"):
        if key in given and not (key == "default" and not nodes.boolean(f, given[key][1], key)):
            f.fail(given[key][0], key, "a fault scenario never creates a transaction, so it "
                   "takes no outcome fields and cannot be the default")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="FAULT", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=nodes.string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, fault=_fault(f, given["fault"][1]),
    )
    name_line = nodes.line_of(given["name"][0]) if "name" in given else None
    return Loaded(scenario, name_line, None, phones, f.name)


def _c2b(f: nodes.File, node: Node) -> C2BSpec:
    if not isinstance(node, MappingNode):
        f.fail(node, "c2b", f"must be a mapping of {', '.join(_C2B_FIELDS)}, got {f.got(node)}")
    given = nodes.fields_of(f, node, "c2b.", _C2B_FIELDS)
    spec: dict[str, Any] = {
        **_optional(given, "validation",
                    lambda n: nodes.choice(f, n, "c2b.validation", Validation)),
        **_optional(given, "confirmation",
                    lambda n: nodes.choice(f, n, "c2b.confirmation", Delivery)),
        **_optional(given, "duplicate_gap", lambda n: nodes.seconds(f, n, "c2b.duplicate_gap")),
    }
    if "delay" in given:
        delay = _delay(f, given["delay"][1])
        spec["delay"] = delay
    return C2BSpec(**spec)


def _c2b_scenario(
    f: nodes.File, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool, source: str
) -> Loaded:
    """A scenario for C2B payments, matched by the payer's phone."""
    for key in (*_OUTCOME_ONLY, "default", "fault"):
        if key in given:
            f.fail(given[key][0], key, "a C2B scenario takes only name, description, match and "
                   "c2b")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="C2B", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=nodes.string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, c2b=_c2b(f, given["c2b"][1]),
    )
    name_line = nodes.line_of(given["name"][0]) if "name" in given else None
    return Loaded(scenario, name_line, None, phones, f.name)


def _apis(f: nodes.File, node: Node) -> frozenset[str]:
    apis = set()
    for item in nodes.items(f, node, "initiator.apis", "a list of API names"):
        value = f.value(item, "initiator.apis", "an API name")
        if value not in INITIATOR_APIS:
            f.fail(item, "initiator.apis", f"must be one of: {', '.join(INITIATOR_APIS)}, "
                   f"got {nodes.show(value)}")
        apis.add(value)
    return frozenset(apis)


def _initiator(f: nodes.File, node: Node) -> InitiatorSpec:
    if not isinstance(node, MappingNode):
        f.fail(node, "initiator",
               f"must be a mapping of {', '.join(_INITIATOR_FIELDS)}, got {f.got(node)}")
    given = nodes.fields_of(f, node, "initiator.", _INITIATOR_FIELDS)
    spec: dict[str, Any] = {
        **_optional(given, "result", lambda n: nodes.choice(f, n, "initiator.result", ResultMode)),
        **_optional(given, "delay", lambda n: _delay(f, n)),
        **_optional(given, "duplicate_gap",
                    lambda n: nodes.seconds(f, n, "initiator.duplicate_gap")),
        **_optional(given, "apis", lambda n: _apis(f, n)),
    }
    if "result_code" in given:
        code_node = given["result_code"][1]
        spec["result_code"] = code = _result_code(f, code_node)
        if "result_desc" in given:
            spec["result_desc"] = nodes.string(f, given["result_desc"][1], "initiator.result_desc")
        elif code != 0:
            known = describe_initiator(code)
            if known is None:
                f.fail(code_node, "initiator.result_desc", f"result code {code!r} is not in "
                       "the catalogue, so result_desc is required")
            spec["result_desc"] = known
    return InitiatorSpec(**spec)


def _initiator_scenario(
    f: nodes.File, given: dict[str, tuple[Node, Node]], path: Path, bundled: bool, source: str
) -> Loaded:
    """A scenario for the initiator APIs; B2C ones match the recipient's phone."""
    for key in (*_OUTCOME_ONLY, "default", "fault", "c2b"):
        if key in given:
            f.fail(given[key][0], key, "an initiator scenario takes only name, description, "
                   "match and initiator")
    match, phones = _match(f, given["match"][1]) if "match" in given else (Match(), {})
    scenario = Scenario(
        name=_name(f, given["name"][1] if "name" in given else None, path.stem),
        result_code="INITIATOR", result_desc="", delay=Delay(0.0, 0.0), match=match,
        description=nodes.string(f, given["description"][1], "description").strip()
        if "description" in given else "",
        source=source, bundled=bundled, initiator=_initiator(f, given["initiator"][1]),
    )
    name_line = nodes.line_of(given["name"][0]) if "name" in given else None
    return Loaded(scenario, name_line, None, phones, f.name)


def scenario_from(
    f: nodes.File, top: MappingNode, path: Path, bundled: bool, source: str
) -> Loaded:
    """One file's top-level mapping as a scenario of its kind, with the lines tier checks use."""
    given = nodes.fields_of(f, top, "", _FIELDS)
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
        **_optional(given, "description", lambda n: nodes.string(f, n, "description").strip()),
        **_optional(given, "callback", lambda n: nodes.choice(f, n, "callback", Delivery)),
        **_optional(given, "duplicate_gap", lambda n: nodes.seconds(f, n, "duplicate_gap")),
        **_optional(given, "balance", lambda n: nodes.choice(f, n, "balance", BalanceItem)),
        **_optional(given, "default", lambda n: nodes.boolean(f, n, "default")),
        **_optional(given, "manual", lambda n: nodes.boolean(f, n, "manual")),
        **_optional(
            given, "manual_timeout", lambda n: nodes.seconds(f, n, "manual_timeout", positive=True)
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
    return Loaded(
        scenario,
        nodes.line_of(given["name"][0]) if "name" in given else None,
        nodes.line_of(given["default"][0]) if "default" in given else None,
        phones,
        f.name,
    )


