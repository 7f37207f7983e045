"""The scenario loader: strict YAML with file:line:field errors, and the tier merge rules."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.faults.model import FAULT_NUMBERS, Endpoint, FaultKind, FaultSpec
from emulator.kernel.texts import describe
from emulator.scenario.loader import (
    ScenarioError,
    bundled_dir,
    load_dir,
    load_file,
    load_scenarios,
)
from emulator.scenario.model import BalanceItem, Delay, Delivery, Scenario

MINIMAL = "result_code: 1032\ndelay: 5\n"


def write(folder: Path, filename: str, text: str) -> Path:
    """Write a dedented scenario file and return its path."""
    path = folder / filename
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, filename: str = "s.yaml") -> ScenarioError:
    path = write(tmp_path, filename, text)
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    assert info.value.file == str(path)
    return info.value


# --------------------------------------------------------------------------- valid files


def test_full_example_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "whatever.yaml",
        """\
        name: cancelled-big
        description: The customer presses Cancel on the PIN prompt.
        result_code: 1032
        result_desc: Request cancelled by user.
        delay: [5, 15.5]
        callback: twice
        duplicate_gap: 0
        balance: omit
        default: false
        manual: true
        manual_timeout: 30
        match:
          phones: ["254700001032", 254110000000]
          amount: [100, 500]
          account_references: ["FAIL-*", "x?"]
        """,
    )
    s = load_file(path)
    assert s == Scenario(
        name="cancelled-big",
        description="The customer presses Cancel on the PIN prompt.",
        result_code=1032,
        result_desc="Request cancelled by user.",
        delay=Delay(5.0, 15.5),
        callback=Delivery.TWICE,
        duplicate_gap=0.0,
        balance=BalanceItem.OMIT,
        match=s.match,
        manual=True,
        manual_timeout=30.0,
        source=str(path),
    )
    assert s.match.phones == frozenset({"254700001032", "254110000000"})
    assert (s.match.amount_min, s.match.amount_max) == (100, 500)
    assert s.match.account_references == ("FAIL-*", "x?")


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    s = load_file(write(tmp_path, "my-cancel_1.yml", MINIMAL), bundled=True)
    assert s.name == "my-cancel_1"  # the file stem
    assert s.result_desc == describe(1032)
    assert s.delay == Delay(5.0, 5.0)
    assert s.callback is Delivery.ONCE and s.balance is BalanceItem.EMPTY
    assert not s.default and not s.manual and s.match.is_empty
    assert s.bundled and s.description == ""


def test_single_amount_sets_both_bounds(tmp_path: Path) -> None:
    s = load_file(write(tmp_path, "a.yaml", MINIMAL + "match: {amount: 5}\n"))
    assert (s.match.amount_min, s.match.amount_max) == (5, 5)


def test_string_code_from_catalogue(tmp_path: Path) -> None:
    s = load_file(write(tmp_path, "a.yaml", "result_code: SFC_IC0003\ndelay: 1\n"))
    assert s.result_code == "SFC_IC0003" and s.result_desc == "The operator does not exist."


def test_uncatalogued_code_with_desc(tmp_path: Path) -> None:
    s = load_file(write(tmp_path, "a.yaml", "result_code: 26\nresult_desc: Blocked\ndelay: 1\n"))
    assert (s.result_code, s.result_desc) == (26, "Blocked")


def test_empty_match_allowed_on_non_default(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "a.yaml", MINIMAL + "match: {}\n")).match.is_empty


# --------------------------------------------------------------------------- field errors

FIELD_ERRORS = [
    # (text, line, field, fragment of the message)
    ("result_code: 1032\n\ndelay: soon\n", 3, "delay", "got 'soon'"),
    ("result_code: 1032\ndelay: true\n", 2, "delay", "got true"),
    ('result_code: 1032\ndelay: "5"\n', 2, "delay", "got '5'"),
    ("result_code: 1032\ndelay: -1\n", 2, "delay", ">= 0"),
    ("result_code: 1032\ndelay: .inf\n", 2, "delay", "finite"),
    ("result_code: 1032\ndelay: [9, 2]\n", 2, "delay", "min must be <= max"),
    ("result_code: 1032\ndelay: 1" + "0" * 400 + "\n", 2, "delay", "too large"),
    ("result_code: 1032\ndelay: !!float\n", 2, "delay", "cannot read value"),
    ("result_code: 1032\ndelay: !!timestamp x\n", 2, "delay", "cannot read value"),
    ("result_code: 1032\ndelay: [1, 2, 3]\n", 2, "delay", "a list of 3"),
    ("result_code: 1032\ndelay:\n  - 1\n  - x\n", 4, "delay[1]", "got 'x'"),
    ("result_code: 1032\ndelay: {a: 1}\n", 2, "delay", "got a mapping"),
    ("result_code: 1032\ndelay: null\n", 2, "delay", "got null"),
    ("delay: 5\n", 1, "result_code", "required"),
    ("result_code: 1032\n", 1, "delay", "required"),
    ("result_code: -1\ndelay: 5\n", 1, "result_code", ">= 0"),
    ("result_code: 1.5\ndelay: 5\n", 1, "result_code", "got 1.5"),
    ("result_code: '1032'\ndelay: 5\n", 1, "result_code", "unquoted"),
    ("result_code: true\ndelay: 5\n", 1, "result_code", "got true"),
    ("result_code: has space\ndelay: 5\n", 1, "result_code", "got 'has space'"),
    ("result_code: !!int abc\ndelay: 5\n", 1, "result_code", "cannot read value"),
    ("result_code: !custom 5\ndelay: 5\n", 1, "result_code", "cannot read value"),
    ("\nresult_code: 77\ndelay: 5\n", 2, "result_desc", "not in the catalogue"),
    ("result_code: NOPE1\ndelay: 5\n", 1, "result_desc", "not in the catalogue"),
    ("result_code: 0\ndelay: 5\nresult_desc: ''\n", 3, "result_desc", "empty"),
    ("result_code: 0\ndelay: 5\nresult_desc: 5\n", 3, "result_desc", "must be a string"),
    ("result_code: 0\ndelay: 5\nname: Bad Name\n", 3, "name", "must match"),
    ("result_code: 0\ndelay: 5\nname: 404\n", 3, "name", "quote it"),
    ("result_code: 0\ndelay: 5\ndescription: [a]\n", 3, "description", "got a list"),
    ("result_code: 0\ndelay: 5\ncallback: sometimes\n", 3, "callback", "once, never, twice"),
    ("result_code: 0\ndelay: 5\nbalance: full\n", 3, "balance", "empty, omit"),
    ("result_code: 0\ndelay: 5\ndefault: 'yes'\n", 3, "default", "true or false"),
    ("result_code: 0\ndelay: 5\nmanual: 1\n", 3, "manual", "true or false"),
    ("result_code: 0\ndelay: 5\nmanual_timeout: 0\n", 3, "manual_timeout", "> 0"),
    ("result_code: 0\ndelay: 5\nduplicate_gap: -2\n", 3, "duplicate_gap", ">= 0"),
    ("result_code: 0\ndelay: 5\ndelai: 5\n", 3, "delai", "unknown field 'delai'; expected"),
    ("result_code: 0\ndelay: 5\nresult_code: 1\n", 3, "result_code", "given twice"),
    ("result_code: 0\ndelay: 5\n<<: {a: 1}\n", 3, "<<", "unknown field"),
    ("result_code: 0\ndelay: 5\n[a]: 1\n", 3, None, "plain words"),
    ("result_code: 0\ndelay: 5\nmatch: [1]\n", 3, "match", "got a list"),
    ("result_code: 0\ndelay: 5\nmatch:\n  phone: [1]\n", 4, "match.phone", "unknown field"),
    ("result_code: 0\ndelay: 5\nmatch:\n  phones: '254700001032'\n", 4, "match.phones", "a list"),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  phones:\n    - '254700001032'\n    - '0712345678'\n",
        6,
        "match.phones[1]",
        "write it as 254712345678",
    ),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  phones: [254800000000]\n",
        4,
        "match.phones[0]",
        "2547XXXXXXXX",
    ),
    ("result_code: 0\ndelay: 5\nmatch:\n  phones: [true]\n", 4, "match.phones[0]", "got true"),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  phones: ['2547000010321']\n",
        4,
        "match.phones[0]",
        "2541XXXXXXXX",
    ),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  phones:\n    - 254700001032\n    - '254700001032'\n",
        6,
        "match.phones[1]",
        "listed twice (first at line 5)",
    ),
    ("result_code: 0\ndelay: 5\nmatch:\n  amount: 0\n", 4, "match.amount", ">= 1"),
    ("result_code: 0\ndelay: 5\nmatch:\n  amount: 5.5\n", 4, "match.amount", "got 5.5"),
    ("result_code: 0\ndelay: 5\nmatch:\n  amount: '5'\n", 4, "match.amount", "got '5'"),
    ("result_code: 0\ndelay: 5\nmatch:\n  amount: [10, 5]\n", 4, "match.amount", "min must be"),
    ("result_code: 0\ndelay: 5\nmatch:\n  amount: [1, x]\n", 4, "match.amount[1]", "got 'x'"),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  account_references: FAIL-*\n",
        4,
        "match.account_references",
        "a list of glob patterns",
    ),
    (
        "result_code: 0\ndelay: 5\nmatch:\n  account_references: [ok, 5]\n",
        4,
        "match.account_references[1]",
        "must be a string",
    ),
    ("result_code: 0\ndelay: 5\nmatch: &m {phones: *m}\n", 3, "match.phones", "got a mapping"),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), FIELD_ERRORS)
def test_field_errors(
    tmp_path: Path, text: str, line: int, field: str | None, fragment: str
) -> None:
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (line, field), str(err)
    assert fragment in err.message


def test_error_str_format(tmp_path: Path) -> None:
    err = load_error(tmp_path, "result_code: 1032\n\n\n\n\n\ndelay: soon\n", "cancel.yaml")
    assert str(err) == (
        f"{tmp_path / 'cancel.yaml'}:7: field 'delay': "
        "must be a number of seconds or [min, max], got 'soon'"
    )


def test_error_str_without_line_or_field() -> None:
    assert str(ScenarioError("a.yaml", None, None, "boom")) == "a.yaml: boom"
    assert str(ScenarioError("a.yaml", None, "x", "boom")) == "a.yaml: field 'x': boom"


def test_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(ScenarioError("a.yaml", 3, "delay", "bad")))
    assert (err.file, err.line, err.field, err.message) == ("a.yaml", 3, "delay", "bad")


def test_invalid_stem_needs_a_name(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL, "My Scenario.yaml")
    assert err.field == "name" and "rename the file or add a name" in err.message
    assert load_file(write(tmp_path, "My Other.yaml", MINIMAL + "name: ok\n")).name == "ok"


# --------------------------------------------------------------------------- file-level errors


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "result_code: 1032\ndelay: 5\nmatch:\n  phones: [1\n  x: : :\n")
    assert err.line is not None and err.line >= 4
    assert err.field is None and err.message.startswith("invalid YAML")


def test_yaml_bad_indent_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "result_code: 1032\ndelay: 5\n  oops: 1\n")
    assert err.line == 3 and "invalid YAML" in err.message


def test_yaml_reader_error_has_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "result_code: 1032\ndelay: 5\ndescription: a\x07b\n")
    assert err.line == 3 and "invalid YAML" in err.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "null\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (1, None) and "empty" in err.message


@pytest.mark.parametrize("text", ["- a\n- b\n", "42\n", "just text\n"])
def test_top_level_not_a_mapping(tmp_path: Path, text: str) -> None:
    err = load_error(tmp_path, text)
    assert (err.line, err.field) == (1, None) and "expected a mapping" in err.message


def test_two_documents(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "---\n" + MINIMAL)
    assert err.line == 3 and "single document" in err.message


def test_deep_nesting(tmp_path: Path) -> None:
    assert "invalid YAML" in load_error(tmp_path, "[" * 5000).message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"result_code: 0\ndescription: \xff\xfe\x00\n")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_file(tmp_path / "nope.yaml")
    assert info.value.file == str(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- folders


def test_load_dir_sorted_and_filtered(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", MINIMAL)
    write(tmp_path, "a.yaml", MINIMAL)
    write(tmp_path, "c.yaml.bak", "not: yaml: at all")
    write(tmp_path, "notes.txt", "hello")
    (tmp_path / "d.yaml").mkdir()
    assert [s.name for s in load_dir(tmp_path)] == ["a", "b"]


def test_load_dir_missing(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_dir(tmp_path / "missing")
    assert info.value.file == str(tmp_path / "missing") and "does not exist" in str(info.value)


def test_load_dir_not_a_dir(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", MINIMAL)
    with pytest.raises(ScenarioError, match="not a directory"):
        load_dir(path)


def test_load_dir_reports_bad_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL)
    bad = write(tmp_path, "b.yaml", "result_code: 0\ndelay: soon\n")
    with pytest.raises(ScenarioError) as info:
        load_dir(tmp_path)
    assert (info.value.file, info.value.line) == (str(bad), 2)


# --------------------------------------------------------------------------- bundled set

BUNDLED_FILES = sorted(p.name for p in bundled_dir().glob("*.yaml"))


def test_bundled_dir_has_the_files() -> None:
    assert bundled_dir().is_dir()
    outcomes = [f for f in BUNDLED_FILES
                if not f.startswith(("fault-", "c2b-", "b2c-", "initiator-"))]
    c2b = [f for f in BUNDLED_FILES if f.startswith("c2b-")]
    initiator = [f for f in BUNDLED_FILES if f.startswith(("b2c-", "initiator-"))]
    assert len(outcomes) == 13 and len(c2b) == 4 and len(initiator) == 22
    assert len(BUNDLED_FILES) == 51


@pytest.mark.parametrize("filename", BUNDLED_FILES)
def test_each_bundled_file_loads(filename: str) -> None:
    s = load_file(bundled_dir() / filename, bundled=True)
    assert s.name == Path(filename).stem and s.bundled
    assert s.description and (s.result_desc or s.fault or s.c2b or s.initiator)
    assert len(s.match.phones) == (0 if filename.startswith("initiator-") else 1)


def test_bundled_set_has_one_default() -> None:
    scenarios = load_scenarios()
    defaults = [s for s in scenarios if s.default]
    assert [s.name for s in defaults] == ["success"]
    assert defaults[0].match.phones == frozenset({"254708374149"})


def test_bundled_magic_numbers_follow_the_rule() -> None:
    """2547000 + the code padded to five digits; 25471000000N for delivery variants;
    25471100000N for C2B variants."""
    variants = {"lost-callback": "1", "duplicate-callback": "2", "manual": "3"}
    c2b = {"c2b-validation-timeout": "1", "c2b-confirmation-lost": "2",
           "c2b-confirmation-twice": "3", "c2b-slow": "4"}
    b2c = {"b2c-result-lost": "1", "b2c-result-twice": "2", "b2c-operator-unknown": "3",
           "b2c-queue-timeout": "4"}
    for s in load_scenarios():
        if s.initiator is not None and not s.match.phones:
            continue  # initiator-*: queued by name, for any initiator API
        (phone,) = s.match.phones
        if s.initiator is not None:  # B2C recipients: 2547120 + the code, 25471209000N variants
            expected = ("25471209000" + b2c[s.name] if s.name in b2c
                        else f"2547120{int(s.initiator.result_code):05d}")
            assert phone == expected, s.name
        elif s.name == "success":
            assert phone == "254708374149"
        elif s.fault is not None:  # 2547990000 + the fault's number (21: flaky spike arrest)
            expected = "254799000021" if s.name == "fault-flaky" else FAULT_NUMBERS[s.fault.kind]
            assert phone == expected, s.name
        elif s.name in variants:
            assert phone == "25471000000" + variants[s.name]
        elif s.c2b is not None:
            assert phone == "25471100000" + c2b[s.name]
        else:
            assert phone == f"2547000{int(s.result_code):05d}", s.name


def test_bundled_variants() -> None:
    by_name = {s.name: s for s in load_scenarios()}
    assert by_name["lost-callback"].callback is Delivery.NEVER
    dup = by_name["duplicate-callback"]
    assert dup.callback is Delivery.TWICE and dup.duplicate_gap == 2
    manual = by_name["manual"]
    assert manual.manual and manual.manual_timeout == 60 and manual.delay == Delay(0, 0)
    assert "1037" in manual.description


def test_fault_scenarios(tmp_path: Path) -> None:
    short = load_file(write(tmp_path, "a.yaml", "fault: drop\nmatch:\n  phones: [254722000001]\n"))
    assert short.fault == FaultSpec(FaultKind.DROP)
    full = load_file(write(tmp_path, "b.yaml", (
        "fault:\n  kind: slow\n  endpoints: [push, query]\n  times: 2\n  seconds: 3\n")))
    assert full.fault == FaultSpec(
        FaultKind.SLOW, frozenset({Endpoint.PUSH, Endpoint.QUERY}), times=2, seconds=3.0)


@pytest.mark.parametrize(("text", "line", "field"), [
    ("fault: melt\n", 1, "fault"),
    ("fault:\n  endpoints: [push]\n", 2, "fault.kind"),
    ("fault:\n  kind: drop\n  endpoints: [oauth]\n", 3, "fault.endpoints"),
    ("fault:\n  kind: drop\n  endpoints: [c2b]\n", 3, "fault.endpoints[0]"),
    ("fault:\n  kind: drop\n  times: 0\n", 3, "fault.times"),
    ("fault:\n  kind: drop\n  kynd: x\n", 3, "fault.kynd"),
    ("fault: drop\nresult_code: 0\n", 2, "result_code"),
    ("fault: drop\ndefault: true\n", 2, "default"),
    ("fault: [drop]\n", 1, "fault"),
])
def test_fault_scenario_errors(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, "f.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)


# --------------------------------------------------------------------------- merge rules


@pytest.fixture
def user(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    folder.mkdir()
    return folder


def test_user_scenarios_come_after_bundled(user: Path) -> None:
    write(user, "extra.yaml", MINIMAL)
    scenarios = load_scenarios([user])
    assert scenarios[-1].name == "extra" and not scenarios[-1].bundled
    assert all(s.bundled for s in scenarios[:-1])


def test_user_replaces_bundled_by_name(user: Path) -> None:
    path = write(user, "mine.yaml", "name: cancelled\nresult_code: 1031\ndelay: 1\n")
    scenarios = load_scenarios([user])
    cancelled = [s for s in scenarios if s.name == "cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0].result_code == 1031 and cancelled[0].source == path.name  # in --scenarios


def test_user_default_takes_over(user: Path) -> None:
    write(user, "mine.yaml", MINIMAL + "default: true\n")
    scenarios = load_scenarios([user])
    assert [s.name for s in scenarios if s.default] == ["mine"]
    success = next(s for s in scenarios if s.name == "success")
    assert not success.default and success.bundled  # kept, just no longer the default


def test_user_replacing_default_keeps_it(user: Path) -> None:
    write(user, "success.yaml", "result_code: 0\ndelay: 0\ndefault: true\n")
    scenarios = load_scenarios([user])
    assert [(s.name, s.bundled) for s in scenarios if s.default] == [("success", False)]


def test_user_replacing_default_without_flag(user: Path) -> None:
    path = write(user, "s.yaml", "result_code: 0\ndelay: 0\nname: success\n")
    with pytest.raises(ScenarioError) as info:
        load_scenarios([user])
    err = info.value
    assert (err.file, err.line, err.field) == (str(path), 3, "default")
    assert "bundled default" in err.message


def test_user_may_claim_bundled_phone(user: Path) -> None:
    write(user, "mine.yaml", MINIMAL + "match: {phones: ['254700001032']}\n")
    assert any(s.name == "mine" for s in load_scenarios([user]))


def test_duplicate_name_across_user_dirs(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    a = write(first, "x.yaml", MINIMAL)
    b = write(second, "other.yaml", "result_code: 0\n\nname: x\ndelay: 1\n")
    with pytest.raises(ScenarioError) as info:
        load_scenarios([first, second])
    err = info.value
    assert (err.file, err.line, err.field) == (str(b), 3, "name")
    assert str(a) in err.message and "'x'" in err.message


def test_yaml_and_yml_with_same_stem_clash(user: Path) -> None:
    write(user, "x.yaml", MINIMAL)
    write(user, "x.yml", MINIMAL)
    with pytest.raises(ScenarioError, match="also used by"):
        load_scenarios([user])


def test_two_user_defaults(user: Path) -> None:
    a = write(user, "a.yaml", MINIMAL + "default: true\n")
    b = write(user, "b.yaml", "default: true\n" + MINIMAL)
    with pytest.raises(ScenarioError) as info:
        load_scenarios([user])
    err = info.value
    assert (err.file, err.line, err.field) == (str(b), 1, "default")
    assert str(a) in err.message


def test_phone_claimed_twice_in_user_tier(user: Path) -> None:
    a = write(user, "a.yaml", MINIMAL + "match: {phones: ['254711111111']}\n")
    b = write(
        user, "b.yaml", MINIMAL + "match:\n  phones:\n    - '254722222222'\n    - 254711111111\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenarios([user])
    err = info.value
    assert (err.file, err.line, err.field) == (str(b), 6, "match.phones[1]")
    assert "254711111111" in err.message and str(a) in err.message


def test_no_default_without_bundled(user: Path) -> None:
    write(user, "a.yaml", MINIMAL)
    with pytest.raises(ScenarioError) as info:
        load_scenarios([user], include_bundled=False)
    assert info.value.field == "default" and "no scenario has default" in info.value.message
    assert str(user) in info.value.file


def test_only_user_scenarios(user: Path) -> None:
    write(user, "a.yaml", MINIMAL + "default: true\n")
    assert [s.name for s in load_scenarios([user], include_bundled=False)] == ["a"]


def test_empty_final_set(user: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios([user], include_bundled=False)
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(include_bundled=False)


def test_missing_user_dir(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenarios([tmp_path / "nope"])
    assert info.value.file == str(tmp_path / "nope")


# --------------------------------------------------------------------------- fuzzing

FIELD_NAMES = [
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
    "phones",
    "amount",
    "account_references",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["once", "twice", "never", "empty", "omit", "254700001032", "SFC_IC0003"]),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8), st.integers())
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=20,
)
scenario_like = st.fixed_dictionaries(
    {"result_code": nested, "delay": nested},
    optional={name: nested for name in FIELD_NAMES if name not in ("result_code", "delay")},
)
yamlish = st.text(
    alphabet=st.sampled_from(list("abcdelay_:-[]{},'\"!&*#|>?%@ \n\t0123456789.\x00\x07é")),
    max_size=120,
)
TAGS = [
    "",
    "!!int",
    "!!float",
    "!!bool",
    "!!timestamp",
    "!!binary",
    "!!str",
    "!!null",
    "!!map",
    "!!seq",
    "!!set",
    "!!omap",
    "!!merge",
    "!x",
    "!!python/name:os.system",
]
tagged = st.builds(
    lambda tag, text: f"{tag} {text}".strip(),
    st.sampled_from(TAGS),
    st.text(alphabet=st.sampled_from(list("0123456789.-+_:eEaxT ")), max_size=12),
)
templated = st.builds(
    "result_code: {}\ndelay: {}\ncallback: {}\nmatch:\n  phones: [{}]\n  amount: {}\n".format,
    tagged,
    tagged,
    tagged,
    tagged,
    tagged,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_error(folder: Path, text: str) -> None:
    """Loading any text gives a Scenario or a ScenarioError, never another exception."""
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        assert isinstance(load_file(path), Scenario)
    except ScenarioError as err:
        assert str(err).startswith(str(path))
        assert err.line is None or err.line >= 1


@FUZZ
@given(text=st.one_of(yamlish, templated, st.text(max_size=80)))
def test_fuzz_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    load_or_error(tmp_path_factory.mktemp("fuzz"), text)


@FUZZ
@given(data=st.one_of(nested, scenario_like))
def test_fuzz_dumped_data(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    load_or_error(tmp_path_factory.mktemp("fuzz"), yaml.safe_dump(data, allow_unicode=True))


def test_a_folder_lists_as_pathlib_read_it(tmp_path: Path) -> None:
    """The scandir listing keeps what `Path.suffix`/`Path.is_file()` said: an entry that cannot
    be checked (a symlink loop, a link through a file) is skipped, not an error, and the suffix
    is pathlib's (`..yaml` has one, `.yaml` none)."""
    import os

    from emulator.scenario.files import scenario_files, scenario_names

    for name in ("b.yaml", "a.yml", "..yaml", ".yaml", "c.YAML", "d.yaml.bak", "e.json"):
        (tmp_path / name).write_text("name: x\n")
    (tmp_path / "sub.yaml").mkdir()
    os.symlink("loop.yaml", tmp_path / "loop.yaml")
    os.symlink("b.yaml/inside", tmp_path / "through.yaml")
    os.symlink("missing", tmp_path / "dangling.yaml")
    os.symlink("b.yaml", tmp_path / "link.yaml")
    assert scenario_names(tmp_path) == ["..yaml", "a.yml", "b.yaml", "link.yaml"]
    assert scenario_files(tmp_path) == [tmp_path / n for n in scenario_names(tmp_path)]
    old = sorted((p for p in tmp_path.iterdir()
                  if p.suffix in (".yaml", ".yml") and p.is_file()), key=lambda p: p.name)
    assert scenario_files(tmp_path) == old
