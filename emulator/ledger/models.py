"""Ledger records: businesses with their accounts, customers with their wallets, entries.

Plain records (msgspec Structs), no I/O. Which account a payment touches follows ledger
reference 0.7: a paybill collects into its Utility Account, a till into its Merchant Account.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

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


class Business(msgspec.Struct):
    """A shortcode with its accounts."""

    shortcode: str
    kind: Kind
    name: str
    balances: dict[Account, Cents]  # maps account -> balance; every Account is present
    initiators: frozenset[str] = frozenset()  # API operators allowed to act for it


class Customer(msgspec.Struct):
    """A phone with an M-Pesa wallet; the name is the one Safaricom shows merchants."""

    phone: str
    balance: Cents
    first_name: str
    middle_name: str
    last_name: str


PAYOUTS = frozenset({"b2c", "reversal"})  # entry kinds where the business pays the customer


class Entry(msgspec.Struct, frozen=True):
    """One completed payment, with the balances it left behind.

    Which way the money went follows the kind: "stk" and "c2b" debit the customer and credit
    the business's `account`; "b2c" and "reversal" debit the business's `account` and credit
    the customer; "b2b" debits `shortcode`'s Working Account and credits `payee`'s account.
    """

    receipt: str  # the M-Pesa receipt the callbacks carried
    kind: str  # what moved the money: "stk", "c2b", "b2c", "b2b", "reversal"
    at: datetime
    phone: str  # the customer (B2B: the optional Requester, else "")
    shortcode: str  # the business (B2B: the payer, PartyA)
    account: Account  # the business's account the money went into or came out of
    amount: Cents
    charges: Cents  # tariff charged to the business (0: the emulator applies no tariff)
    customer_balance: Cents  # after the payment
    business_balance: Cents  # `account`, after the payment
    reference: str = ""  # account number (BillRefNumber / AccountReference)
    command: str = ""  # the initiator's CommandID (BusinessPayment, BusinessPayBill, ...)
    payee: str = ""  # B2B: the business credited (PartyB)
    payee_account: Account | None = None  # B2B: its account credited
    payee_balance: Cents = 0  # B2B: that account, after the payment
    original: str = ""  # reversal: the receipt it reversed
    originator_id: str = ""  # the OriginatorConversationID of the request that moved it
    conversation_id: str = ""  # its ConversationID ("" for customer-initiated payments)

    @property
    def pays_customer(self) -> bool:
        return self.kind in PAYOUTS


class Opening(msgspec.Struct, frozen=True):
    """The balances everything starts with (and returns to on reset)."""

    customer: Cents = 100_000_00
    business: Cents = 1_000_000_00  # in Working and in the collection account
    per_phone: dict[str, Cents] = msgspec.field(default_factory=dict)  # overrides by phone
