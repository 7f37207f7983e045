"""Access tokens are credentials (issue 12): unseeded runs draw them from `secrets`, so they
cannot be predicted from the Mersenne Twister's other output; seeded runs stay reproducible."""

from __future__ import annotations

import random
import types

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.kernel import ids
from emulator.kernel.ids import IdSource


def test_unseeded_sources_give_different_tokens() -> None:
    a, b = IdSource(), IdSource()
    assert a.token() != b.token()
    assert len(a.token()) == 28 and a.token().isalnum()


def test_seeded_sources_give_the_same_tokens() -> None:
    a, b = IdSource(42), IdSource(42)
    assert [a.token() for _ in range(3)] == [b.token() for _ in range(3)]


def test_unseeded_tokens_do_not_come_from_the_shared_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two unseeded sources whose Mersenne Twisters are forced equal still differ in tokens."""
    fixed = types.SimpleNamespace(Random=lambda seed=None: random.Random(1234))
    monkeypatch.setattr(ids, "random", fixed)
    a, b = IdSource(), IdSource()
    assert a.rng.random() == b.rng.random()  # the same generator stream...
    assert a.token() != b.token()  # ...yet different tokens


def test_tokens_over_http_seeded_and_not() -> None:
    def token(settings: Settings) -> str:
        with EmulatorServer(settings) as s:
            r = httpx.get(f"{s.url}/oauth/v1/generate?grant_type=client_credentials",
                          auth=("k", "s"))
            return str(r.json()["access_token"])

    assert token(Settings(time_scale=0, seed=9)) == token(Settings(time_scale=0, seed=9))
    assert token(Settings(time_scale=0)) != token(Settings(time_scale=0))
