"""Customer names: Kenyan names from faker's en_KE locale, seeded by the phone number, so the
same phone has the same name in every run and every emulator. faker's only room."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# the sandbox's own test customers, as captured payloads name them (ledger reference 5.3, 13)
KNOWN: dict[str, tuple[str, str, str]] = {
    "254708374149": ("JOHN", "", "DOE"),
    "254705912645": ("NICHOLAS", "JOHN", "SONGOK"),
}


class Names:
    """First, middle and last name for a phone, upper-case as M-Pesa shows them."""

    def __init__(self) -> None:
        self._faker: Any = None  # made on first use: building it takes a third of a second
        self.name = lru_cache(maxsize=4096)(self._name)

    def _name(self, phone: str) -> tuple[str, str, str]:
        if phone in KNOWN:
            return KNOWN[phone]
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("en_KE")
        fake = self._faker
        fake.seed_instance(int(phone) if phone.isdigit() else phone)
        return fake.first_name().upper(), fake.first_name().upper(), fake.last_name().upper()
