"""The README's pytest example (and docs/pytest.md's files), run as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = [Path(__file__).parents[1] / "README.md", Path(__file__).parents[1] / "docs" / "pytest.md"]
# a ```python block whose first line names its file, e.g. "# test_shop.py"
NAMED_BLOCK = re.compile(r"```python\n# (?P<name>[\w.]+\.py)\n(?P<code>.*?)```", re.DOTALL)
STRICT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest -p no:faker -p no:anyio
filterwarnings = error
"""


def doc_files() -> dict[str, str]:
    return {m["name"]: m["code"] for doc in DOCS for m in NAMED_BLOCK.finditer(doc.read_text())}


def test_the_doc_has_the_example() -> None:
    assert {"test_shop.py", "conftest.py"} <= set(doc_files())


def test_the_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makeini(STRICT_INI)
    for name, code in doc_files().items():
        pytester.path.joinpath(name).write_text(code)
    result = pytester.runpytest_subprocess("-v", timeout=120)
    outcomes = result.parseoutcomes()
    collected = int(re.search(r"collected (\d+) items", result.stdout.str())[1])  # type: ignore[index]
    assert collected >= 10
    assert outcomes == {"passed": collected}, result.stdout.str()


def test_every_bundled_scenario_phone_is_in_the_example() -> None:
    code = doc_files()["test_shop.py"]
    for phone in (
        "254708374149",
        "254700001032",
        "254700001037",
        "254700000001",
        "254700002001",
        "254700001019",
        "254710000001",
        "254710000002",
    ):
        assert f'"{phone}"' in code, phone
