"""One seeded source for every identifier Daraja hands out, so `--seed` reproduces them all.

Without a seed, access tokens come from the operating system's generator (`secrets`): a
Mersenne Twister's output can be predicted from enough earlier outputs, and a token is a
credential. With a seed they stay reproducible, which is what a seed is for."""

from __future__ import annotations

import random
import secrets
import string
from datetime import datetime, timedelta, timezone

from emulator.kernel.clock import EAT, eat

_TOKEN_ALPHABET = string.ascii_letters + string.digits
# byte -> alphanumeric: 256 is not a multiple of 62, so the first 8 letters come a little more
# often, which nothing can tell from a real token; one translate beats 28 random choices
_TOKEN_TABLE = bytes((_TOKEN_ALPHABET * 5)[:256], "ascii")
_RECEIPT_ALPHABET = string.ascii_uppercase + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)
_SECOND = timedelta(seconds=1)
_DAY_LETTERS = "123456789ABCDEFGHIJKLMNOPQRSTUV"  # day 1..31: 1-9, then A=10 .. V=31


class IdSource:
    """Generates ids in Daraja's current formats (reference 0, 2.2, 4.4)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._seeded = seed is not None
        hexes = [self._hex(n) for n in (4, 4, 4, 12)]
        self._node = "-".join(hexes[:3]) + "-" + hexes[3]  # per-node constant prefix
        self._counter = self._rng.randrange(100_000, 9_000_000)
        self._last_ms: dict[str, int] = {}  # maps MSISDN -> Unix ms of its last CheckoutRequestID
        self._second, self._second_text = -1, ""  # the last second formatted for an id
        # the whole UTC second the last `now` fell in, [start, end), its Unix ms and tzinfo:
        # a `now` inside it gives its ms from .microsecond, no timedelta arithmetic
        self._window: tuple[datetime, datetime, int, object] | None = None

    @property
    def rng(self) -> random.Random:
        """The shared generator, for scenario delays, so a seed fixes them too."""
        return self._rng

    def _hex(self, n: int) -> str:
        return "".join(self._rng.choices("0123456789abcdef", k=n))

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def resume_after(self, merchant_request_id: str) -> None:
        """Continue the node prefix and counter of an earlier run (the --state file), so a
        seeded restart does not hand out the same MerchantRequestIDs again."""
        node, counter = merchant_request_id[:27], merchant_request_id[27:]
        if len(node) == 27 and counter.isdigit():
            self._node, self._counter = node, max(self._counter, int(counter))

    def request_id(self) -> str:
        """`6e86-45dd-91ac-fd5d4178ab52` + counter, as in 2024+ error envelopes."""
        return f"{self._node}{self._next()}"

    def merchant_request_id(self) -> str:
        return f"{self._node}{self._next()}"

    def checkout_request_id(self, now: datetime, msisdn: str) -> str:
        """`ws_CO_` + ddMMyyyyHHmmss (EAT) + unpadded ms + the MSISDN's last 9 digits.

        Two pushes to one phone in the same millisecond get successive milliseconds, so the id
        stays unique while keeping the real format.
        """
        ms = self._unix_ms(now)
        last = self._last_ms.get(msisdn)
        if last is not None and ms <= last:
            ms = last + 1
        self._remember(msisdn, ms)
        second, millis = divmod(ms, 1000)
        if second != self._second:  # one strftime per second, not per push
            self._second = second
            self._second_text = f"{datetime.fromtimestamp(second, EAT):%d%m%Y%H%M%S}"
        return f"ws_CO_{self._second_text}{millis}{msisdn[-9:]}"

    def _unix_ms(self, now: datetime) -> int:
        """(now - epoch) // 1 ms, exactly; a push in the same second as the last costs two
        comparisons instead of a subtraction and a division of timedeltas."""
        window = self._window
        if window is not None and now.tzinfo is window[3] and window[0] <= now < window[1]:
            return window[2] + now.microsecond // 1000
        ms = (now - _EPOCH) // _MILLISECOND
        offset = now.utcoffset()
        if offset is not None and not offset.microseconds:  # .microsecond is UTC's, then
            start = _EPOCH + timedelta(seconds=ms // 1000)
            self._window = (start, start + _SECOND, ms - ms % 1000, now.tzinfo)
        return ms

    def _remember(self, msisdn: str, ms: int) -> None:
        if len(self._last_ms) > 10_000:  # forget phones whose last id is safely in the past
            cutoff = ms - 1000
            self._last_ms = {k: v for k, v in self._last_ms.items() if v > cutoff}
        self._last_ms[msisdn] = ms

    def receipt(self, now: datetime) -> str:
        """10 characters: year letter (2017=L), month letter (Jan=A), day, 7 random."""
        tail = "".join(self._rng.choices(_RECEIPT_ALPHABET, k=7))
        return f"{_receipt_prefix(now)}{tail}"

    def conversation_id(self, now: datetime) -> str:
        """`AG_` + yyyyMMdd (EAT) + `_0100` + 16 lower-case alphanumerics: 32 characters, the
        ConversationID format since August 2025 (ledger reference 0.3)."""
        tail = "".join(self._rng.choices(_LOWER_ALNUM, k=16))
        return f"AG_{eat(now):%Y%m%d}_0100{tail}"

    def placeholder_receipt(self, now: datetime) -> str:
        """The receipt's 3-character date prefix + `0000000`: the TransactionID of non-financial
        results (Transaction Status, Account Balance) and of failures."""
        return f"{_receipt_prefix(now)}0000000"

    def token(self) -> str:
        """28 alphanumerics, like every captured access token; unpredictable unless seeded."""
        raw = self._rng.randbytes(28) if self._seeded else secrets.token_bytes(28)
        return raw.translate(_TOKEN_TABLE).decode("ascii")


def _receipt_prefix(now: datetime) -> str:
    """Year letter (2017=L), month letter (Jan=A), day character: a receipt's first three."""
    local = eat(now)
    year = chr(ord("L") + local.year - 2017) if 2017 <= local.year <= 2031 else "Z"
    month = chr(ord("A") + local.month - 1)
    return f"{year}{month}{_DAY_LETTERS[local.day - 1]}"
