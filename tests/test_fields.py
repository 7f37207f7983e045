"""The shared field readers refuse what Daraja refuses, control characters included."""

from __future__ import annotations

import pytest

from emulator.kernel.fields import amount, text, url


@pytest.mark.parametrize("value", ["https://shop.example/cb\x1b[31m", "http://a b", "", "ftp://x",
                                   "https://shop.example/\x7f", "http://[::1:80/"])
def test_bad_urls_are_refused(value: str) -> None:
    assert not url(value)


def test_good_values_are_read() -> None:
    assert url("https://shop.example:8443/cb?x=1")
    assert text(10.0) == "10" and text(True) is None and text(4.5) is None
    assert amount("250000.00") and not amount("250001") and not amount("0")
