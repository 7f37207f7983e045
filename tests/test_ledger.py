"""The ledger on its own: exact money, parties opened lazily, names fixed by the phone, and the
sum of all balances unchanged by any sequence of payments (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.kernel.store import Records
from emulator.ledger.book import InsufficientFunds, Ledger, UnknownBusiness
from emulator.ledger.codec import BusinessCodec, CustomerCodec, EntryCodec
from emulator.ledger.models import Account, Kind, Opening
from emulator.ledger.money import cents, shillings
from emulator.ledger.names import Names

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
NAMES = Names()  # shared: faker is built once


def book(**opening: int) -> Ledger:
    return Ledger(Records(BusinessCodec(), 1000), Records(CustomerCodec(), 1000),
                  Records(EntryCodec(), 1000), Opening(**opening),
                  {"174379": Kind.PAYBILL, "5212345": Kind.TILL}, NAMES)


def test_money_is_exact() -> None:
    assert cents(1) == 100 and cents("1.5") == 150 and cents("0.01") == 1
    assert shillings(100) == "1.00" and shillings(-66000) == "-660.00"
    assert shillings(4188026480) == "41880264.80"
    for bad in ("1.001", "x", "nan", True):
        with pytest.raises(ValueError):
            cents(bad)  # type: ignore[arg-type]


def test_sandbox_shortcodes_open_funded_and_others_do_not() -> None:
    ledger = book()
    for code in ("600000", "600999", "600984"):
        b = ledger.business(code)
        assert b is not None and b.kind is Kind.PAYBILL and "testapi" in b.initiators
        assert b.balances[Account.WORKING] == b.balances[Account.UTILITY] == 1_000_000_00
    assert ledger.business("601000") is None and ledger.business("599999") is None
    till = ledger.business("5212345")
    assert till is not None and till.kind is Kind.TILL
    assert till.balances[Account.MERCHANT] == 1_000_000_00 and till.balances[Account.UTILITY] == 0


def test_payments_move_money_into_utility_or_merchant() -> None:
    ledger = book()
    paybill = ledger.pay(phone="254708374149", shortcode="600000", amount=100, kind="c2b",
                         receipt="UAF1234567", at=NOW)
    assert paybill.account is Account.UTILITY and paybill.business_balance == 1_000_000_00 + 100
    assert paybill.customer_balance == 100_000_00 - 100
    till = ledger.pay(phone="254708374149", shortcode="5212345", amount=250, kind="stk",
                      receipt="UAF1234568", at=NOW, till=True)
    assert till.account is Account.MERCHANT
    with pytest.raises(InsufficientFunds):
        ledger.pay(phone="254708374149", shortcode="600000", amount=10**12, kind="c2b",
                   receipt="X", at=NOW)
    with pytest.raises(UnknownBusiness):
        ledger.pay(phone="254708374149", shortcode="123456", amount=1, kind="c2b", receipt="Y",
                   at=NOW)
    assert [e.receipt for e in ledger.history()] == ["UAF1234568", "UAF1234567"]


def test_reset_restores_the_opening_balances() -> None:
    ledger = book(customer=500_00)
    ledger.set_customer_balance("254711222333", 7)
    ledger.pay(phone="254722000111", shortcode="600000", amount=100, kind="c2b", receipt="R",
               at=NOW)
    ledger.reset()
    assert ledger.customer("254711222333").balance == 500_00
    assert ledger.business("600000").balances[Account.UTILITY] == 1_000_000_00  # type: ignore[union-attr]
    assert ledger.history() == []


def test_names_are_kenyan_upper_case_and_fixed_by_the_phone() -> None:
    first = Names().name("254711222333")
    assert first == Names().name("254711222333")  # a fresh faker: the same name
    assert all(part and part == part.upper() for part in first)
    assert Names().name("254722000444") != first
    assert NAMES.name("254705912645") == ("NICHOLAS", "JOHN", "SONGOK")  # the docs' customer


PHONES = st.sampled_from(["254708374149", "254711222333", "254722000444", "254110000555"])
CODES = st.sampled_from(["600000", "600984", "174379", "5212345"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PHONES, CODES, st.integers(1, 60_000_00)), max_size=40),
       st.integers(0, 200_000_00))
def test_the_sum_of_all_balances_never_changes(
    payments: list[tuple[str, str, int]], opening: int
) -> None:
    ledger = book(customer=opening)
    for phone in ["254708374149", "254711222333", "254722000444", "254110000555"]:
        ledger.customer(phone)
    for code in ["600000", "600984", "174379", "5212345"]:
        ledger.till(code)
    total = ledger.total()
    paid = 0
    for n, (phone, code, amount) in enumerate(payments):
        before = ledger.customer(phone).balance
        try:
            ledger.pay(phone=phone, shortcode=code, amount=amount, kind="c2b",
                       receipt=f"R{n}", at=NOW, till=code == "5212345")
        except InsufficientFunds:
            assert before < amount
            continue
        paid += 1
        assert ledger.total() == total
        assert ledger.customer(phone).balance >= 0
    assert len(ledger.history()) == paid


def test_looking_opens_nothing_and_the_total_does_not_depend_on_what_was_looked_at() -> None:
    ledger = book()
    start = ledger.total()  # the registered businesses at their opening balances, no wallets
    assert start == 2 * 2 * 1_000_000_00  # 174379 (Working + Utility), 5212345 (+ Merchant)
    assert [b.shortcode for b in ledger.known()] == ["174379", "5212345"]
    assert ledger.peek_customer("254708374149").balance == 100_000_00
    assert ledger.peek_business("600000") is not None and ledger.peek_business("601000") is None
    assert ledger.total() == start and not list(ledger.customers) and not list(ledger.businesses)
    ledger.pay(phone="254708374149", shortcode="174379", amount=500, kind="c2b",
               receipt="UAF1", at=NOW)
    # the payer's wallet opened when money first reached it; 174379 was counted already
    assert ledger.total() == start + 100_000_00
    assert ledger.peek_customer("254708374149").balance == 100_000_00 - 500
    assert ledger.peek_business("174379").balances[Account.UTILITY] == 1_000_000_00 + 500
