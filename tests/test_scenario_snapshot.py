"""The bundled scenarios' snapshot (emulator/scenario/snapshot.py): what start-up loads instead of
parsing the YAML, used only while it matches the files and the code that reads them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.faults.model import Endpoint, FaultKind, FaultSpec
from emulator.scenario import files, loader, snapshot
from emulator.scenario.model import Delay, Delivery, Loaded, Match, Scenario

STALE = "the committed snapshot is stale: run python -m emulator.scenario.snapshot"


def test_the_committed_snapshot_matches_the_bundled_yaml() -> None:
    folder = loader.bundled_dir()
    from_snapshot = snapshot.read(folder)
    assert from_snapshot is not None, STALE
    assert from_snapshot == loader.read_dir(folder, bundled=True), STALE


def test_the_bundled_set_loads_from_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("read the YAML although the snapshot matches")

    monkeypatch.setattr(loader, "read_dir", no_yaml)
    names = [s.name for s in loader.load_scenarios()]
    assert "success" in names and len(names) == len(files.scenario_files(loader.bundled_dir()))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    shutil.copytree(loader.bundled_dir(), folder)
    return folder


def test_an_identical_copy_matches_and_names_its_own_files(copy: Path) -> None:
    loaded = snapshot.read(copy)
    assert loaded is not None
    assert [item.path for item in loaded] == [str(p) for p in files.scenario_files(copy)]
    assert loaded == loader.read_dir(copy, bundled=True)


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_any_change_to_the_files_makes_it_stale(copy: Path, change: str) -> None:
    target = copy / "cancelled.yaml"
    if change == "edit":
        target.write_text(target.read_text().replace("Cancel", "Decline"), encoding="utf-8")
    elif change == "add":
        (copy / "extra.yml").write_text("result_code: 1\ndelay: 1\n", encoding="utf-8")
    else:
        target.unlink()
    assert snapshot.read(copy) is None


def test_a_change_to_the_reading_code_makes_it_stale(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "package"
    for rel in snapshot.READERS:
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(snapshot.__file__).parents[1] / rel, package / rel)
    fake = package / "scenario" / "snapshot.py"  # key() finds the code beside this module
    monkeypatch.setattr(snapshot, "__file__", str(fake))
    assert snapshot.read(copy) is not None
    with (package / "kernel" / "texts.py").open("a", encoding="utf-8") as f:
        f.write("\n# a changed catalogue text\n")
    assert snapshot.read(copy) is None


def test_a_missing_folder_is_left_to_the_yaml_reader(tmp_path: Path) -> None:
    assert snapshot.key(tmp_path / "nowhere") is None
    assert snapshot.read(tmp_path / "nowhere") is None


def roundtrip(loaded: list[Loaded]) -> list[Loaded]:
    namespace: dict[str, object] = {}
    exec(snapshot.render(loaded, "k"), namespace)  # noqa: S102 - our own generated source
    return [item for _, item in namespace["LOADED"]]  # type: ignore[attr-defined]


texts = st.text(st.characters(codec="utf-8"), max_size=20)
scenarios = st.builds(
    Scenario,
    name=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True),
    result_code=st.one_of(st.integers(0, 10**6), st.from_regex(r"[A-Z0-9_]{1,8}", fullmatch=True)),
    result_desc=texts,
    delay=st.builds(Delay, st.floats(0, 1e6), st.floats(0, 1e6)),
    description=texts,
    callback=st.sampled_from(Delivery),
    duplicate_gap=st.floats(0, 100),
    match=st.builds(
        Match,
        phones=st.frozensets(st.from_regex(r"2547\d{8}", fullmatch=True), max_size=3),
        amount_min=st.none() | st.integers(1, 10**6),
        account_references=st.lists(texts, max_size=2).map(tuple),
    ),
    default=st.booleans(),
    fault=st.none() | st.builds(
        FaultSpec,
        kind=st.sampled_from(FaultKind),
        endpoints=st.frozensets(st.sampled_from(Endpoint), min_size=1),
    ),
)


@given(st.lists(st.builds(Loaded, scenarios, st.none() | st.integers(1, 99), st.none(),
                          st.dictionaries(st.from_regex(r"2547\d{8}", fullmatch=True),
                                          st.tuples(st.integers(1, 99), texts), max_size=2),
                          st.just("/x/s.yaml")),
                max_size=3))
def test_what_it_writes_reads_back_equal(loaded: list[Loaded]) -> None:
    assert roundtrip(loaded) == [Loaded(**{**vars_of(item), "path": ""}) for item in loaded]


def vars_of(item: Loaded) -> dict[str, object]:
    return {name: getattr(item, name) for name in Loaded.__struct_fields__}


def test_it_refuses_what_it_cannot_write() -> None:
    odd = Loaded(Scenario("x", 0, "", Delay(float("inf"), float("inf"))), None, None, {})
    with pytest.raises(ValueError):
        snapshot.render([odd], "k")
    with pytest.raises(TypeError):
        snapshot.render([Loaded(object(), None, None, {})], "k")  # type: ignore[arg-type]


def test_a_snapshot_that_cannot_be_imported_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import emulator.scenario

    monkeypatch.delattr(emulator.scenario, "bundled", raising=False)
    monkeypatch.setitem(sys.modules, "emulator.scenario.bundled", None)  # its import fails
    assert snapshot.read(loader.bundled_dir()) is None
    assert [s.name for s in loader.load_scenarios()]  # from the YAML


def test_a_stale_snapshot_says_so_and_serves_the_files(
    copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    target = copy / "cancelled.yaml"
    target.write_text(target.read_text().replace("Cancel", "Decline"), encoding="utf-8")
    monkeypatch.setattr(loader, "bundled_dir", lambda: copy)
    with caplog.at_level("INFO", logger="emulator.scenario"):
        scenarios = {s.name: s for s in loader.load_scenarios()}
    assert "Decline" in scenarios["cancelled"].description
    assert "python -m emulator.scenario.snapshot" in caplog.text


def test_the_command_refuses_a_broken_bundled_file_without_a_traceback(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (copy / "timeout.yaml").write_text("result_code: 1037\ndelay: soon\n", encoding="utf-8")
    monkeypatch.setattr(snapshot, "bundled_dir", lambda: copy)
    target = tmp_path / "bundled.py"  # never the committed one, even if this regressed
    monkeypatch.setattr(snapshot, "SNAPSHOT", target)
    assert snapshot.main([]) == 2
    err = capsys.readouterr().err
    assert "timeout.yaml:2: field 'delay'" in err and "Traceback" not in err
    assert not target.exists()
    assert snapshot.main(["--check"]) == 1  # a broken file: stale, and start-up names it


def test_line_endings_do_not_change_the_key(copy: Path) -> None:
    before = snapshot.key(copy)
    for path in files.scenario_files(copy):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert snapshot.key(copy) == before and snapshot.read(copy) is not None
