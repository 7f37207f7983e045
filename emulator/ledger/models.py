"""Ledger records: businesses with their accounts, customers with their wallets, entries.

Plain dataclasses, no I/O. Which account a payment touches follows ledger reference 0.7: a
paybill collects into its Utility Account, a till into its Merchant Account.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from emulator.ledger.money import Cents


class Account(str, enum.Enum):
    """A business's M-Pesa accounts, by the names Daraja's balance strings use."""

    WORKING = "Working Account"
    FLOAT = "Float Account"
    UTILITY = "Utility Account"
    CHARGES_PAID = "Charges Paid Account"
    MERCHANT = "Merchant Account"
    SETTLEMENT = "Organization Settlement Account"

    @classmethod
    def named(cls, text: str) -> Account:
        """An account from its wire name or a short one ("Utility", "charges-paid")."""
        wanted = text.strip().lower().replace("-", " ").replace("_", " ")
        for account in cls:
            name = account.value.lower()
            if wanted in (name, name.removesuffix(" account"), account.name.lower()):
                return account
        raise ValueError(f"no account {text!r}; one of: {', '.join(a.value for a in cls)}")


class Kind(str, enum.Enum):
    PAYBILL = "paybill"  # collects into Utility; customers pay with an account number
    TILL = "till"  # Buy Goods: collects into Merchant


def collection_account(kind: Kind) -> Account:
    """Where a customer's payment lands (reference 0.7)."""
    return Account.MERCHANT if kind is Kind.TILL else Account.UTILITY


@dataclass
class Business:
    """A shortcode with its accounts."""

    shortcode: str
    kind: Kind
    name: str
    balances: dict[Account, Cents]  # maps account -> balance; every Account is present
    initiators: frozenset[str] = frozenset()  # API operators allowed to act for it


@dataclass
class Customer:
    """A phone with an M-Pesa wallet; the name is the one Safaricom shows merchants."""

    phone: str
    balance: Cents
    first_name: str
    middle_name: str
    last_name: str


@dataclass(frozen=True)
class Entry:
    """One completed payment, with the balances it left behind."""

    receipt: str  # the M-Pesa receipt the callbacks carried
    kind: str  # what moved the money: "stk", "c2b"
    at: datetime
    phone: str  # the customer debited
    shortcode: str  # the business credited
    account: Account  # the account credited
    amount: Cents
    charges: Cents  # tariff charged to the business (0: the emulator applies no tariff)
    customer_balance: Cents  # after the payment
    business_balance: Cents  # the credited account, after the payment
    reference: str = ""  # account number (BillRefNumber / AccountReference)


@dataclass(frozen=True)
class Opening:
    """The balances everything starts with (and returns to on reset)."""

    customer: Cents = 100_000_00
    business: Cents = 1_000_000_00  # in Working and in the collection account
    per_phone: dict[str, Cents] = field(default_factory=dict)  # overrides by phone
