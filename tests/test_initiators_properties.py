"""Properties of the initiator APIs: money adds up across B2C, B2B and reversals (the ledger
alone, hypothesis), and no request body makes them answer 500."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.daraja.b2b import wire as b2b_wire
from emulator.daraja.b2c import wire as b2c_wire
from emulator.daraja.initiator import wire
from emulator.daraja.initiator.credential import Credentials, encrypt, well_formed
from emulator.daraja.reversal import wire as reversal_wire
from emulator.kernel.errors import BadRequest
from emulator.kernel.store import Records
from emulator.ledger.book import Ledger, LedgerError
from emulator.ledger.codec import BusinessCodec, CustomerCodec, EntryCodec
from emulator.ledger.models import Kind, Opening

AT = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
PHONES = ["254708374149", "254705912645", "254711000001"]
CODES = ["600992", "600999", "600000", "555555"]


def ledger() -> Ledger:
    return Ledger(Records(BusinessCodec(), 1000), Records(CustomerCodec(), 1000),
                  Records(EntryCodec(), 1000), Opening(customer=500_00, business=1_000_00),
                  {"555555": Kind.TILL})


step = st.one_of(
    st.tuples(st.just("c2b"), st.sampled_from(PHONES), st.sampled_from(CODES[:3]),
              st.integers(1, 800_00)),
    st.tuples(st.just("b2c"), st.sampled_from(PHONES), st.sampled_from(CODES[:3]),
              st.integers(1, 800_00)),
    st.tuples(st.just("b2b"), st.sampled_from(CODES[:3]), st.sampled_from(CODES),
              st.integers(1, 800_00)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.sampled_from(CODES[:3]), st.just(0)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=30))
def test_money_adds_up(steps: list[tuple[str, Any, str, int]]) -> None:
    book = ledger()
    for code in CODES:
        book.till(code) if code == "555555" else book.business(code)
    for phone in PHONES:
        book.customer(phone)
    total = book.total()
    for n, (kind, a, b, amount) in enumerate(steps):
        receipt = f"R{n:09d}"
        try:
            if kind == "c2b":
                book.pay(phone=a, shortcode=b, amount=amount, kind="c2b", receipt=receipt,
                         at=AT)
            elif kind == "b2c":
                book.disburse(shortcode=b, phone=a, amount=amount, command="BusinessPayment",
                              receipt=receipt, at=AT)
            elif kind == "b2b":
                book.transfer(payer=a, payee=b, amount=amount, command="BusinessBuyGoods",
                              receipt=receipt, at=AT, till=b == "555555")
            else:
                book.reverse(original=f"R{a:09d}", shortcode=b, receipt=receipt, at=AT)
        except LedgerError:
            pass
        assert book.total() == total
        assert all(v >= 0 for biz in book.businesses for v in biz.balances.values())
        assert all(c.balance >= 0 for c in book.customers)
    reversed_ = [e.original for e in book.entries if e.kind == "reversal"]
    assert len(reversed_) == len(set(reversed_))  # never twice


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3), max_leaves=6)
KEYS = ["InitiatorName", "Initiator", "SecurityCredential", "CommandID", "Amount", "PartyA",
        "PartyB", "Remarks", "ResultURL", "QueueTimeOutURL", "OriginatorConversationID",
        "TransactionID", "ReceiverParty", "RecieverIdentifierType", "AccountReference"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_value, st.dictionaries(st.sampled_from(KEYS), json_value)))
@pytest.mark.parametrize("parse", [lambda b: b2c_wire.parse(b, "v3"), b2b_wire.parse,
                                   reversal_wire.parse])
def test_any_body_parses_or_is_a_bad_request(parse: Any, body: Any) -> None:
    try:
        fields = parse(body)
    except BadRequest:
        return
    assert all(isinstance(v, str) for v in fields.values())


def test_strict_credentials_check_passwords_and_lock() -> None:
    pytest.importorskip("cryptography")
    creds = Credentials(True, {"shopapi": "S3cret#"})
    good = encrypt(creds.certificate, "S3cret#")
    assert well_formed(good) and len(good) == 344
    assert creds.check("shopapi", good).code is None
    stamped = creds.check("shopapi", encrypt(creds.certificate, "S3cret#20260115093000"))
    assert stamped.code == 2001 and "timestamp" in stamped.why
    b64 = base64.b64encode(b"S3cret#").decode()
    assert "base64" in creds.check("shopapi", encrypt(creds.certificate, b64)).why
    third = creds.check("shopapi", encrypt(creds.certificate, "wrong"))
    assert third.code == 2001 and "locked" in third.why
    assert creds.check("shopapi", good).code == 8006
    assert creds.unlock("shopapi") and creds.check("shopapi", good).code is None
    assert creds.check("nobody", good).code == 2001
    assert creds.check("testapi", encrypt(creds.certificate, "Safaricom999!*!")).code is None


def test_numbers_keep_their_digits() -> None:
    raw = wire.encode({"a": wire.money(522500), "b": wire.Num("20240903093417"), "c": "x"})
    assert raw == b'{"a":5225.00,"b":20240903093417,"c":"x"}'
