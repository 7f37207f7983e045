"""The formats defined once in the kernel, and their users agreeing on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.kernel import auth
from emulator.kernel.formats import MSISDN, is_timestamp
from emulator.scenario.loader import ScenarioError, load_file


@pytest.mark.parametrize("phone", ["254708374149", "254110000001"])
def test_msisdn_takes_kenyan_numbers(phone: str) -> None:
    assert MSISDN.fullmatch(phone)


@pytest.mark.parametrize("phone", ["2547０8374149", "254٧08374149", "0708374149", "25470837414"])
def test_msisdn_refuses_other_digits_and_shapes(phone: str) -> None:
    assert not MSISDN.fullmatch(phone)


def test_a_scenario_phone_in_other_digits_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text('name: s\nresult_code: 0\ndelay: 1\nmatch:\n  phones: ["2547０8374149"]\n',
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="phones"):
        load_file(path)


def test_timestamps_are_real_dates() -> None:
    assert is_timestamp("20260115093000")
    assert not is_timestamp("20260230093000") and not is_timestamp("2026011509300٠")


def test_authorization_is_read_one_way() -> None:
    assert auth.split(" Bearer  abc ") == ("bearer", "abc")
    assert auth.bearer("Bearer abc") == "abc" and auth.bearer("Basic abc") is None
    assert auth.basic("Basic a2V5OnNlY3JldA==") == ("key", "secret")
    assert auth.basic("Basic !!!") is None and auth.basic(None) is None
