"""Customer names: Kenyan names from faker's en_KE locale, seeded by the phone number, so the
same phone has the same name in every run and every emulator. faker's only room."""

from __future__ import annotations

import logging
import random
import threading
from bisect import bisect
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from typing import Any

log = logging.getLogger("emulator.ledger")

# the sandbox's own test customers, as captured payloads name them (ledger reference 5.3, 13)
KNOWN: dict[str, tuple[str, str, str]] = {
    "254708374149": ("JOHN", "", "DOE"),
    "254705912645": ("NICHOLAS", "JOHN", "SONGOK"),
}


class Names:
    """First, middle and last name for a phone, upper-case as M-Pesa shows them."""

    def __init__(self) -> None:
        self.name = lru_cache(maxsize=4096)(self._name)

    @staticmethod
    def warm_in_background() -> None:
        """Import faker and sum its weights in a thread, soon after start-up, instead of at
        the first success of a new phone: there the import (0.2-0.3 s here) stalled the event
        loop, and every callback falling due meanwhile went out that much late (measured: the
        first 30 callbacks of new phones 7-190 ms late, 3-10 ms once warm). A thread keeps
        start-up as fast and the loop answering (it yields the GIL every few ms)."""
        if _TABLES is None:
            threading.Thread(target=_warm, name="faker-names", daemon=True).start()

    def _name(self, phone: str) -> tuple[str, str, str]:
        """faker's first_name(), first_name(), last_name() after seed_instance(phone), drawn
        the way faker draws them (the same seeded generator, the same weighted choices), with
        the weights summed once: faker sums ~900 of them on every draw (0.8 ms a name, paid by
        the first success of every new phone)."""
        if phone in KNOWN:
            return KNOWN[phone]
        firsts, lasts = _TABLES or _tables()
        rng = random.Random(int(phone) if phone.isdigit() else phone)  # as seed_instance seeds
        return firsts.pick(rng).upper(), firsts.pick(rng).upper(), lasts.pick(rng).upper()


_TABLES: tuple[_Weighted, _Weighted] | None = None  # faker's en_KE first and last names
_LOADING = threading.Lock()


def _warm() -> None:
    """The warm-up thread's work: a failure leaves the tables to the first name wanted, which
    then imports faker itself. (Seen: CPython 3.11's "AST constructor recursion
    depth mismatch" when pytest, where faker is a plugin, rewrote faker's modules in this thread
    while the main thread parsed too.)"""
    try:
        _tables()
    except Exception as exc:  # any failure here is retried on first use
        log.debug("customers' names will load on first use: %s", exc)


def _tables() -> tuple[_Weighted, _Weighted]:
    """The weighted name tables, built once per process (a name wanted while the warm-up
    thread builds them waits for it)."""
    global _TABLES
    with _LOADING:
        if _TABLES is None:
            from faker import Faker

            person = Faker("en_KE").provider("faker.providers.person")
            _TABLES = _Weighted(person.first_names), _Weighted(person.last_names)
        return _TABLES


class _Weighted:
    """faker's random_element(OrderedDict of weights), which is random.choices(keys, weights)
    with k=1, on cumulative weights computed once: the same draw from the same generator."""

    def __init__(self, elements: Any) -> None:
        if isinstance(elements, dict):
            self._keys: Sequence[str] = tuple(elements)
            self._cumulative: list[float] | None = list(accumulate(elements.values()))
        else:  # a plain sequence: faker draws with random.choice
            self._keys, self._cumulative = tuple(elements), None

    def pick(self, rng: random.Random) -> str:
        cumulative = self._cumulative
        if cumulative is None:
            return rng.choice(self._keys)
        # random.choices(keys, cum_weights=cumulative, k=1)[0], without building the list
        total = cumulative[-1] + 0.0
        return self._keys[bisect(cumulative, rng.random() * total, 0, len(cumulative) - 1)]
