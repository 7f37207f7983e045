"""Control characters from request data never reach a log line raw, and a CallBackURL holding
one is refused as Daraja refuses a malformed URL (issue 12)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.daraja.stk import wire
from emulator.kernel.clock import SystemClock
from emulator.kernel.delivery import Delivery
from emulator.kernel.logsafe import escape
from tests.helpers import Daraja

# every character str.isprintable refuses: C0, DEL, C1, line/paragraph separators, ...
unprintable = st.characters(
    blacklist_categories=("Cs",), codec="utf-8").filter(lambda c: not c.isprintable())
BASES = ["https://shop.example.com/api/mpesa/callback", "http://127.0.0.1:8000/cb?x=1"]


@settings(max_examples=200, deadline=None)
@given(base=st.sampled_from(BASES), bad=unprintable, where=st.integers(0, 200))
def test_callback_url_with_a_control_character_is_refused(base: str, bad: str, where: int) -> None:
    at = where % (len(base) + 1)
    url = base[:at] + bad + base[at:]
    assert wire.valid_callback_url(base, require_https=False)
    assert not wire.valid_callback_url(url, require_https=False)
    assert not wire.valid_callback_url(url, require_https=True)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",))))
def test_escape_leaves_nothing_unprintable(text: str) -> None:
    out = escape(text)
    assert out.isprintable()
    if text.isprintable():
        assert out == text
    else:
        assert out != text and "\x1b" not in out


@pytest.mark.parametrize("bad", ["\x1b[2J", "\x7f", "\r", "\x85", "\u2028", "\x00"])
def test_push_with_control_character_in_callback_url(daraja: Daraja, bad: str) -> None:
    r = daraja.push(CallBackURL=f"https://shop.example.com/cb{bad}x")
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == "400.002.02"
    assert r.json()["errorMessage"] == "Bad Request - Invalid CallBackURL"


def test_request_log_escapes_the_path(daraja: Daraja, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="emulator")
    r = daraja.http.get("/%1b[2J%0d%0aFAKE%20LINE")
    assert r.status_code == 404
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "emulator.http"]
    assert lines, caplog.records
    assert all(line.isprintable() for line in lines), lines
    assert any("\\x1b[2J" in line for line in lines), lines  # CR LF: urlsplit drops them
    journal = httpx.get(f"{daraja.http.base_url}/_emulator/requests").text
    assert "\\u001b" not in journal and "\\\\x1b[2J" in journal  # JSON: \\x1b, no \u001b


def test_callback_delivery_log_escapes_the_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="emulator.callbacks")

    async def post() -> None:
        delivery = Delivery(SystemClock(), timeout=1.0)
        try:
            await delivery.post("http://127.0.0.1:9/cb\x1b[31m", b"{}", "ws_CO_1\x1b")
        finally:
            await delivery.aclose()

    asyncio.run(post())
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "emulator.callbacks"]
    assert lines and all(line.isprintable() for line in lines), lines
