"""C2B validation as real clients send requests (hypothesis): numbers or strings, nulls, unknown
fields; anything else is a 400.002.02 naming a field, never an exception of ours. And the
payloads and answers, field by field."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.daraja.c2b import wire
from emulator.daraja.c2b.models import Payment, Registration
from emulator.kernel.errors import BadRequest, InvalidUrl
from emulator.scenario.model import C2BSpec

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8,
)
FIELDS = ["ShortCode", "CommandID", "Amount", "Msisdn", "BillRefNumber", "ResponseType",
          "ConfirmationURL", "ValidationURL"]
GOOD_SIMULATE = {"ShortCode": "600984", "CommandID": "CustomerPayBillOnline", "Amount": "1",
                 "Msisdn": "254708374149", "BillRefNumber": "x"}
GOOD_REGISTER = {"ShortCode": 600984, "ResponseType": "Completed",
                 "ConfirmationURL": "https://shop.example/c", "ValidationURL": None}


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, st.dictionaries(st.sampled_from(FIELDS), JSON)))
def test_any_body_parses_or_names_a_field(body: Any) -> None:
    for parse in (wire.parse_simulate, wire.parse_register):
        try:
            parse(body)
        except BadRequest as exc:
            assert exc.code == "400.002.02" and exc.message == f"Bad Request - Invalid {exc.field}"
        except InvalidUrl as exc:
            assert exc.code == "400.003.02" and "URL has the word" in exc.message


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(GOOD_SIMULATE)), JSON)
def test_one_bad_field_is_the_one_named(name: str, value: Any) -> None:
    body = {**GOOD_SIMULATE, name: value, "Extra": [1, 2]}
    try:
        req = wire.parse_simulate(body)
    except BadRequest as exc:
        assert exc.field == name
    else:
        assert req.msisdn == "254708374149" or name == "Msisdn"


@pytest.mark.parametrize("amount", [1, "1", 1.0, "10.00", 250_000])
def test_numbers_or_strings(amount: Any) -> None:
    req = wire.parse_simulate({**GOOD_SIMULATE, "Amount": amount, "Msisdn": 254708374149,
                               "ShortCode": 600984, "BillRefNumber": None})
    assert req.amount == int(float(amount)) and req.msisdn == "254708374149"
    assert req.shortcode == "600984" and req.bill_ref == ""
    assert wire.parse_register(GOOD_REGISTER).validation_url == ""


def _payment(version: str) -> Payment:
    at = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
    reg = Registration("600984", version, "Completed", "http://s/c", "http://s/v", at, True)
    return Payment("UAF1ABCDEF", "x", "simulate", "600984", False, "254705912645", 1, "UM001",
                   at, "", C2BSpec(), reg, org_balance=4188026480)


def test_v1_confirmation_matches_the_2025_sandbox_capture() -> None:
    body = wire.notification(_payment("v1"), ("NICHOLAS", "JOHN", "SONGOK"), confirmation=True)
    assert body == {
        "TransactionType": "Pay Bill", "TransID": "UAF1ABCDEF", "TransTime": "20260115123000",
        "TransAmount": "1.00", "BusinessShortCode": "600984", "BillRefNumber": "UM001",
        "InvoiceNumber": "", "OrgAccountBalance": "41880264.80", "ThirdPartyTransID": "",
        "MSISDN": "94c392c311d522da950619227b3361752a42042db7e1e699b26e628305c68a88",
        "FirstName": "NICHOLAS", "MiddleName": "JOHN", "LastName": "SONGOK"}
    assert body["MSISDN"] == hashlib.sha256(b"254705912645").hexdigest()


def test_v2_validation_masks_and_leaves_the_balance_empty() -> None:
    body = wire.notification(_payment("v2"), ("A", "B", "C"), confirmation=False)
    assert body["MSISDN"] == "2547 ***** 645" and body["OrgAccountBalance"] == ""
    assert "MiddleName" not in body
    assert "MiddleName" in wire.notification(_payment("v2"), ("A", "B", "C"),
                                             confirmation=False, name_fields="all")


@pytest.mark.parametrize(("status", "text", "accepted"), [
    (200, '{"ResultCode":"0","ResultDesc":"Accepted"}', True),
    (200, '{"ResultCode":0,"ResultDesc":"Accepted"}', True),
    (200, '{"ResultCode":"C2B00013","ResultDesc":"Rejected"}', False),
    (200, '{"ResultCode":false}', None),
    (200, '{"ResultCode":"C2B00099"}', None),
    (200, "not json", None),
    (500, '{"ResultCode":"0"}', None),
    (None, "", None),
])
def test_validation_answers(status: int | None, text: str, accepted: bool | None) -> None:
    assert wire.read_answer(status, text)[0] is accepted
