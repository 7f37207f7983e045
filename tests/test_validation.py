"""Synchronous STK validation over real HTTP: every rule answers Daraja's exact status and envelope.

Wire truth: daraja-reference.md sections 0 (envelope), 2.1 and 2.3 (push rules), 3.2 and 3.3
(query), 8 (what client libraries send). The big rule tables run against one module-scoped
emulator (they leave no state behind); tests that need other Settings or fresh state use the
per-test `server` fixture.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from tests.helpers import CallbackReceiver, Daraja, password

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"
ENVELOPE_KEYS = {"requestId", "errorCode", "errorMessage"}
ACCEPTED = "Success. Request accepted for processing"
WRONG_CREDENTIALS = "Wrong credentials"
MISSING = object()  # a field left out of the body


def bad(field: str) -> str:
    return f"Bad Request - Invalid {field}"


def now_ts() -> str:
    return datetime.now().strftime("%Y%m%d%H%M%S")


def assert_envelope(r: httpx.Response, status: int, code: str, message: str) -> dict[str, Any]:
    """Exactly Daraja's three-key envelope, with the status of the code's first segment."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, dict) and set(body) == ENVELOPE_KEYS, body
    assert isinstance(body["requestId"], str) and body["requestId"], body
    assert (body["errorCode"], body["errorMessage"]) == (code, message)
    assert int(code.split(".", 1)[0]) == status
    return body


def assert_accepted(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResponseCode",
        "ResponseDescription",
        "CustomerMessage",
    }
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == body["CustomerMessage"] == ACCEPTED
    return body


@pytest.fixture(scope="module")
def shared(receiver: CallbackReceiver) -> Iterator[Daraja]:
    """One emulator for the stateless rejection tables (a server per case would be slow)."""
    with EmulatorServer(Settings(time_scale=0, seed=11)) as s:
        client = Daraja(s.url, receiver.url())
        yield client
        client.close()


def with_field(daraja: Daraja, name: str, value: Any, phone: str = "254708374149") -> dict:
    body = daraja.push_body(phone)
    if value is MISSING:
        del body[name]
    else:
        body[name] = value
    return body


# --------------------------------------------------------------------------- access token


def test_missing_bearer_token(shared: Daraja) -> None:
    r = shared.http.post(PUSH, json=shared.push_body())
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer unknown0token0unknown0token0",
        "Bearer  x",
        "Bearer",
        "garbage",
        "",
    ],
)
def test_unknown_bearer_token(shared: Daraja, header: str) -> None:
    r = shared.http.post(PUSH, json=shared.push_body(), headers={"Authorization": header})
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")


def test_real_token_under_another_scheme_is_refused(shared: Daraja) -> None:
    headers = {"Authorization": f"Basic {shared.token()}"}
    r = shared.http.post(PUSH, json=shared.push_body(), headers=headers)
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")


def test_token_is_checked_before_the_body(shared: Daraja) -> None:
    r = shared.http.post(PUSH, content=b"not json", headers={"Authorization": "Bearer nope"})
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")
    r = shared.http.post(QUERY, json={}, headers={"Authorization": "Bearer nope"})
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")


def test_expired_token(daraja: Daraja) -> None:
    old = daraja.auth()
    assert_accepted(daraja.push("254711000001"))
    assert daraja.admin("POST", "/tokens/expire")["expired"] >= 1
    r = daraja.http.post(PUSH, json=daraja.push_body("254711000002"), headers=old)
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")
    r = daraja.http.post(QUERY, json={}, headers=old)
    assert_envelope(r, 404, "404.001.03", "Invalid Access Token")
    daraja._token = None  # a fresh token works again
    assert_accepted(daraja.push("254711000002"))


# --------------------------------------------------------------------------- body not JSON


@pytest.mark.parametrize(
    "content",
    [b"not json", b"", b"[]", b'[{"BusinessShortCode": "174379"}]', b"null", b"1", b'"x"', b"{"],
    ids=["text", "empty", "array", "array-of-object", "null", "number", "string", "truncated"],
)
def test_body_not_a_json_object(shared: Daraja, content: bytes) -> None:
    headers = {**shared.auth(), "Content-Type": "application/json"}
    r = shared.http.post(PUSH, content=content, headers=headers)
    assert_envelope(r, 400, "400.002.02", bad("BusinessShortCode"))


def test_json_array_of_a_valid_push(shared: Daraja) -> None:
    r = shared.http.post(PUSH, json=[shared.push_body()], headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad("BusinessShortCode"))


def test_form_encoded_body(shared: Daraja) -> None:
    """Python `data=` instead of `json=` (reference 2.3, DOCS FAQ #9)."""
    body = {k: str(v) for k, v in shared.push_body().items()}
    r = shared.http.post(PUSH, data=body, headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad("BusinessShortCode"))


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_json_bytes_not_sent_as_json(shared: Daraja, content_type: str | None) -> None:
    """Valid JSON bytes without Content-Type: application/json: Daraja does not read them."""
    headers = shared.auth()
    if content_type:
        headers["Content-Type"] = content_type
    content = json.dumps(shared.push_body("254711000003")).encode()
    r = shared.http.post(PUSH, content=content, headers=headers)
    assert_envelope(r, 400, "400.002.02", bad("BusinessShortCode"))


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json"]
)
def test_json_content_type_variants_are_read(daraja: Daraja, content_type: str) -> None:
    content = json.dumps(daraja.push_body("254711000004")).encode()
    headers = {**daraja.auth(), "Content-Type": content_type}
    assert_accepted(daraja.http.post(PUSH, content=content, headers=headers))


# --------------------------------------------------------------------------- field rules

FIELD_CASES: list[tuple[str, Any, str]] = []


def _cases(field: str, label: str, values: list[Any]) -> None:
    FIELD_CASES.extend((field, v, label) for v in values)


COMMON_BAD = [MISSING, None, True, False, [], {}, [174379]]
_cases(
    "BusinessShortCode",
    "BusinessShortCode",
    [*COMMON_BAD, "", "abc", "1743", "174 379", "174379 ", "1743790000", 17437.9, "17437.9"],
)
_cases("Password", "Password", [*COMMON_BAD, "", "   "])
_cases(
    "Timestamp",
    "Timestamp",
    [
        *COMMON_BAD,
        "",
        "2026-01-15 10:30:00",
        "2026011510300",  # 13 digits
        "202601151030000",  # 15 digits
        "20261340103000",  # month 13
        "20261301103000",  # month 13 again, day 01
        "20260230103000",  # 30 February
        "20260115246000",  # hour 24
        "20260115106000",  # minute 60
        "20260115103060",  # second 60
        "2026011510300a",
        "00000115103000",  # year 0
        20260115103000.5,
    ],
)
_cases(
    "TransactionType",
    "TransactionType",
    [*COMMON_BAD, 1, "", "customerpaybillonline", "CustomerPayBillOnline ", "BuyGoods"],
)
_cases(
    "Amount",
    "Amount",
    [
        *COMMON_BAD,
        0,
        "0",
        -1,
        "-1",
        4.99,
        "4.99",
        250001,
        "250001",
        1e20,
        "abc",
        "",
        " 1",
        "1e3",
        "0x10",
        "9" * 5000,  # regression: once an Internal Server Error
        "²",  # a digit to str.isdigit(), not to int()
        "١",  # an Arabic-Indic one: int() reads it, Daraja wants ASCII
    ],
)
BAD_MSISDNS = [
    *COMMON_BAD,
    "",
    "0712345678",
    "712345678",
    712345678,
    "+254712345678",
    "255712345678",  # Tanzania
    "25471234567",  # 11 digits
    "2547123456789",  # 13 digits
    "254212345678",  # not 2547/2541
    "254 712345678",
    254712345678.5,
]
_cases("PartyA", "PartyA", BAD_MSISDNS)
_cases("PartyB", "PartyB", [*COMMON_BAD, "", "12", "abc", "123456789", "17437 9"])
_cases("PhoneNumber", "PhoneNumber", BAD_MSISDNS)
_cases(
    "CallBackURL",
    "CallBackURL",
    [
        *COMMON_BAD,
        1,
        "",
        "https://<your-ngrok-url>/cb",
        "https://{host}/cb",
        " https://example.com/cb",
        "https://example.com/cb ",
        "https://exa mple.com/cb",
        "https://example.com/c b",
        "ftp://example.com/cb",
        "https:///cb",
        "https://",
        "example.com/cb",
        "//example.com/cb",
        "http://localhost:0/cb",
        "http://localhost:99999/cb",
        "http://[::1/cb",
    ],
)
_cases("AccountReference", "AccountReference", [MISSING, None, True, [], "", "  "])
_cases("TransactionDesc", "Remarks", [MISSING, None, True, [], "", "  "])


def _case_id(case: tuple[str, Any, str]) -> str:
    field, value, _ = case
    shown = "MISSING" if value is MISSING else repr(value)
    return f"{field}={shown[:30]}"


@pytest.mark.parametrize("case", FIELD_CASES, ids=[_case_id(c) for c in FIELD_CASES])
def test_push_field_rule(shared: Daraja, case: tuple[str, Any, str]) -> None:
    field, value, label = case
    body = with_field(shared, field, value)
    r = shared.http.post(PUSH, json=body, headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad(label))


def test_fields_are_checked_in_daraja_order(shared: Daraja) -> None:
    """The first bad field in Daraja's order is the one blamed."""
    order = [
        ("BusinessShortCode", "x", "BusinessShortCode"),
        ("Password", "", "Password"),
        ("Timestamp", "x", "Timestamp"),
        ("TransactionType", "x", "TransactionType"),
        ("Amount", 0, "Amount"),
        ("PartyA", "x", "PartyA"),
        ("PartyB", "x", "PartyB"),
        ("PhoneNumber", "x", "PhoneNumber"),
        ("CallBackURL", "x", "CallBackURL"),
        ("AccountReference", "", "AccountReference"),
        ("TransactionDesc", None, "Remarks"),
    ]
    for i, (_, _, label) in enumerate(order):
        body = shared.push_body()
        for field, value, _ in order[i:]:
            body[field] = value
        r = shared.http.post(PUSH, json=body, headers=shared.auth())
        assert_envelope(r, 400, "400.002.02", bad(label))


def test_field_format_is_checked_before_credentials(shared: Daraja) -> None:
    body = shared.push_body(Password=password("20260115103000", passkey="0" * 64))
    body["Timestamp"] = "2026-01-15"
    r = shared.http.post(PUSH, json=body, headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad("Timestamp"))


# --------------------------------------------------------------------------- accepted variants


def _numbers_as(kind: type, body: dict[str, Any]) -> dict[str, Any]:
    for name in ("BusinessShortCode", "Amount", "PartyA", "PartyB", "PhoneNumber"):
        body[name] = kind(body[name])
    return body


def test_an_amount_padded_with_thousands_of_zeros_is_still_its_value(daraja: Daraja) -> None:
    """Past Python's 4,300-digit int() limit the zeros must go before conversion, not after."""
    daraja.admin("POST", "/time", json={"scale": 1000})
    body = assert_accepted(daraja.push("254708374149", Amount="0" * 5000 + "3.00"))
    txn = daraja.admin("GET", f"/transactions/{body['CheckoutRequestID']}")
    assert txn["request"]["Amount"] == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"Amount": "1"},
        {"Amount": 1},
        {"Amount": 250000},
        {"Amount": "250000"},
        {"Amount": "0007"},
        {"PartyA": "254110000001", "PhoneNumber": "254110000001"},
        {"PartyA": 254110000001, "PhoneNumber": 254110000001},
        {"Passkey": SANDBOX_PASSKEY, "Unknown": [1, {"x": None}], "Remarks": None},
        {"CallBackURL": "http://localhost:9/cb"},
        {"CallBackURL": "http://127.0.0.1:9/api/mpesa/callback?order=1&x=y"},
        {"CallBackURL": "https://example.ngrok-free.app/mpesa/callback"},
        {"TransactionType": "CustomerBuyGoodsOnline", "PartyB": "5212345"},
        {
            "AccountReference": "UMJ-2026-000123",
            "TransactionDesc": "Payment for order LX-20260115-0042",
        },
        {"Timestamp": "20160216165627"},  # stale but consistent with Password (reference 8)
        {"Timestamp": "20991231235959"},  # ahead of the emulator's clock
    ],
    ids=lambda f: ",".join(f"{k}={str(v)[:20]}" for k, v in f.items()),
)
def test_accepted_push_variants(daraja: Daraja, server: EmulatorServer, fields: dict) -> None:
    if "Timestamp" in fields:
        fields = {**fields, "Password": password(fields["Timestamp"])}
    daraja.admin("POST", "/time", json={"scale": 1000})  # no callback to the URLs above
    body = assert_accepted(daraja.push(str(fields.get("PhoneNumber", "254708374149")), **fields))
    txn = daraja.admin("GET", f"/transactions/{body['CheckoutRequestID']}")
    sent = daraja.push_body(**fields)
    assert txn["request"]["Amount"] == int(sent["Amount"])
    assert txn["request"]["PhoneNumber"] == str(sent["PhoneNumber"])
    assert txn["request"]["PartyB"] == str(sent["PartyB"])
    assert txn["request"]["AccountReference"] == sent["AccountReference"]


@pytest.mark.parametrize("kind", [str, int], ids=["strings", "numbers"])
def test_numbers_as_strings_or_json_numbers(daraja: Daraja, kind: type) -> None:
    daraja.admin("POST", "/time", json={"scale": 1000})
    body = _numbers_as(kind, daraja.push_body("254711000005"))
    r = daraja.http.post(PUSH, json=body, headers=daraja.auth())
    checkout_id = assert_accepted(r)["CheckoutRequestID"]
    txn = daraja.admin("GET", f"/transactions/{checkout_id}")["request"]
    assert (txn["BusinessShortCode"], txn["Amount"], txn["PartyA"], txn["PhoneNumber"]) == (
        "174379",
        1,
        "254711000005",
        "254711000005",
    )


# --------------------------------------------------------------------------- credentials


WRONG_PASSWORDS: dict[str, Any] = {
    "wrong-passkey": lambda ts: password(ts, passkey="0" * 64),
    "timestamp-differs": lambda ts: password("20200101000000"),
    "shortcode-differs": lambda ts: password(ts, shortcode="174380"),
    "no-timestamp": lambda ts: base64.b64encode(
        f"{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}".encode()
    ).decode(),
    "timestamp-first": lambda ts: base64.b64encode(
        f"{ts}{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}".encode()
    ).decode(),
    "not-base64": lambda ts: "not base64 at all!",
    "shortcode-only": lambda ts: "MTc0Mzc5",
    "not-utf8": lambda ts: base64.b64encode(b"\xff\xfe\xfd").decode(),
    "number": lambda ts: 12345,  # text, but not the password
}


@pytest.mark.parametrize("make", WRONG_PASSWORDS.values(), ids=WRONG_PASSWORDS.keys())
def test_wrong_credentials(shared: Daraja, make: Any) -> None:
    ts = now_ts()
    body = shared.push_body("254711000006", Timestamp=ts, Password=make(ts))
    r = shared.http.post(PUSH, json=body, headers=shared.auth())
    assert_envelope(r, 500, "500.001.1001", WRONG_CREDENTIALS)


def test_unknown_shortcode(shared: Daraja) -> None:
    ts = now_ts()
    body = shared.push_body(
        BusinessShortCode="600999", Timestamp=ts, Password=password(ts, shortcode="600999")
    )
    r = shared.http.post(PUSH, json=body, headers=shared.auth())
    assert_envelope(r, 500, "500.001.1001", "Merchant does not exist")


OWN_PASSKEY = "own-passkey-0123456789abcdef"


@pytest.mark.parametrize(
    "settings",
    [Settings(time_scale=0, shortcodes={"600100": OWN_PASSKEY, "174379": SANDBOX_PASSKEY})],
)
def test_registered_shortcode(daraja: Daraja) -> None:
    ts = now_ts()
    own = {"BusinessShortCode": "600100", "PartyB": "600100", "Timestamp": ts}
    body = assert_accepted(
        daraja.push("254711000007", **own, Password=password(ts, "600100", OWN_PASSKEY))
    )
    assert_accepted(daraja.push("254711000008"))  # the sandbox shortcode still works
    r = daraja.push("254711000009", **own, Password=password(ts, "600100"))  # sandbox passkey
    assert_envelope(r, 500, "500.001.1001", WRONG_CREDENTIALS)
    # a query must come from the shortcode that pushed
    r = daraja.query(body["CheckoutRequestID"])
    assert_envelope(r, 400, "400.002.02", bad("CheckoutRequestID"))
    q = daraja.query(
        body["CheckoutRequestID"],
        BusinessShortCode="600100",
        Timestamp=ts,
        Password=password(ts, "600100", OWN_PASSKEY),
    )
    assert q.status_code == 200, q.text
    assert q.json()["CheckoutRequestID"] == body["CheckoutRequestID"]


@pytest.mark.parametrize("settings", [Settings(time_scale=0, shortcodes={"600100": OWN_PASSKEY})])
def test_shortcodes_setting_replaces_the_sandbox_default(daraja: Daraja) -> None:
    assert_envelope(daraja.push("254711000010"), 500, "500.001.1001", "Merchant does not exist")


@pytest.mark.parametrize("settings", [Settings(time_scale=0, require_https=True)])
def test_require_https(daraja: Daraja) -> None:
    r = daraja.push("254711000011", CallBackURL="http://example.com/cb")
    assert_envelope(r, 400, "400.002.02", bad("CallBackURL"))
    r = daraja.push("254711000011", CallBackURL="http://localhost:9/cb")
    assert_envelope(r, 400, "400.002.02", bad("CallBackURL"))
    daraja.admin("POST", "/time", json={"scale": 1000})
    assert_accepted(daraja.push("254711000011", CallBackURL="https://127.0.0.1:9/cb"))


# --------------------------------------------------------------------------- size, method, path

SMALL_LIMIT = 2048


def _padded(daraja: Daraja, size: int) -> bytes:
    """A valid push body of exactly `size` bytes (an unknown field pads it)."""
    body = daraja.push_body("254711000012", Pad="")
    base = len(json.dumps(body).encode())
    body["Pad"] = "x" * (size - base)
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


@pytest.mark.parametrize("settings", [Settings(time_scale=0, max_body_bytes=SMALL_LIMIT)])
def test_oversized_body(daraja: Daraja) -> None:
    headers = {**daraja.auth(), "Content-Type": "application/json"}
    over = _padded(daraja, SMALL_LIMIT + 1)
    r = daraja.http.post(PUSH, content=over, headers=headers)
    assert_envelope(r, 400, "400.002.05", "Invalid Request Payload")
    # chunked: no Content-Length to trust, the limit applies while reading
    r = daraja.http.post(PUSH, content=iter([over[:1000], over[1000:]]), headers=headers)
    assert_envelope(r, 400, "400.002.05", "Invalid Request Payload")
    r = daraja.http.post(QUERY, content=over, headers=headers)
    assert_envelope(r, 400, "400.002.05", "Invalid Request Payload")
    details = [row["detail"] for row in daraja.admin("GET", "/requests")["requests"][:3]]
    assert details[0].endswith(f"(Content-Length {SMALL_LIMIT + 1} is over --max-body-bytes "
                               f"{SMALL_LIMIT})")  # the journal says why; the wire does not
    assert details[1].endswith(f"(body over --max-body-bytes {SMALL_LIMIT})")  # the chunked one
    daraja.admin("POST", "/time", json={"scale": 1000})
    assert_accepted(daraja.http.post(PUSH, content=_padded(daraja, SMALL_LIMIT), headers=headers))


def test_oversized_body_default_limit(shared: Daraja) -> None:
    limit = Settings().max_body_bytes
    headers = {**shared.auth(), "Content-Type": "application/json"}
    r = shared.http.post(PUSH, content=_padded(shared, limit + 1), headers=headers)
    assert_envelope(r, 400, "400.002.05", "Invalid Request Payload")


@pytest.mark.parametrize("path", [PUSH, QUERY])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method(shared: Daraja, path: str, method: str) -> None:
    r = shared.http.request(method, path, headers=shared.auth())
    assert_envelope(r, 405, "405.001", "Method Not Allowed")


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/mpesa/stkpush/v2/processrequest"),
        ("POST", "/mpesa/stkpushquery/v1/queries"),
        ("GET", "/"),
        ("GET", "/oauth/v2/generate"),
    ],
)
def test_unknown_path(shared: Daraja, method: str, path: str) -> None:
    r = shared.http.request(method, path, headers=shared.auth(), follow_redirects=False)
    assert_envelope(r, 404, "404.001.01", "Resource not found")


# --------------------------------------------------------------------------- query endpoint


@pytest.mark.parametrize(
    "checkout_id", [MISSING, None, "", "ws_CO_000000000000000000000000", 12, ["x"]]
)
def test_query_unknown_or_missing_checkout_id(shared: Daraja, checkout_id: Any) -> None:
    ts = now_ts()
    body = {"BusinessShortCode": "174379", "Password": password(ts), "Timestamp": ts}
    if checkout_id is not MISSING:
        body["CheckoutRequestID"] = checkout_id
    r = shared.http.post(QUERY, json=body, headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad("CheckoutRequestID"))


def test_query_field_rules(shared: Daraja) -> None:
    checkout_id = assert_accepted(shared.push("254711000013"))["CheckoutRequestID"]
    assert shared.query(checkout_id).status_code == 200
    cases = [
        ({"BusinessShortCode": "x"}, "BusinessShortCode"),
        ({"Password": ""}, "Password"),
        ({"Timestamp": "2026-01-15"}, "Timestamp"),
        ({"Timestamp": "20261340103000"}, "Timestamp"),
        ({"Timestamp": None}, "Timestamp"),
    ]
    for fields, label in cases:
        assert_envelope(shared.query(checkout_id, **fields), 400, "400.002.02", bad(label))
    r = shared.http.post(QUERY, content=b"nope", headers=shared.auth())
    assert_envelope(r, 400, "400.002.02", bad("BusinessShortCode"))


def test_query_wrong_credentials(shared: Daraja) -> None:
    checkout_id = assert_accepted(shared.push("254711000014"))["CheckoutRequestID"]
    ts = now_ts()
    for pw in (password(ts, passkey="1" * 64), password("20200101000000"), "%%%"):
        r = shared.query(checkout_id, Timestamp=ts, Password=pw)
        assert_envelope(r, 500, "500.001.1001", WRONG_CREDENTIALS)
    r = shared.query(
        checkout_id, BusinessShortCode="600999", Timestamp=ts, Password=password(ts, "600999")
    )
    assert_envelope(r, 500, "500.001.1001", "Merchant does not exist")


@pytest.mark.parametrize("settings", [Settings(time_scale=0, pending_query="legacy")])
def test_legacy_pending_query(daraja: Daraja) -> None:
    daraja.admin("POST", "/time", json={"scale": 1000})  # keep it pending
    checkout_id = assert_accepted(daraja.push("254711000015"))["CheckoutRequestID"]
    body = assert_envelope(
        daraja.query(checkout_id), 500, "500.001.1001", "The transaction is being processed"
    )
    assert body["requestId"] == checkout_id
    daraja.admin("POST", f"/transactions/{checkout_id}/fast-forward")
    daraja.wait_final(checkout_id)
    q = daraja.query(checkout_id)
    assert q.status_code == 200, q.text
    assert (q.json()["ResultCode"], q.json()["CheckoutRequestID"]) == ("0", checkout_id)


def test_modern_pending_query_is_4999(daraja: Daraja) -> None:
    daraja.admin("POST", "/time", json={"scale": 1000})
    checkout_id = assert_accepted(daraja.push("254711000016"))["CheckoutRequestID"]
    q = daraja.query(checkout_id)
    assert q.status_code == 200
    assert q.json()["ResultCode"] == "4999"


@pytest.mark.parametrize(
    "settings,wording",
    [
        (Settings(time_scale=0, query_wording="docs"), "successfully"),
        (Settings(time_scale=0), "successsfully"),
    ],
    ids=["docs", "typo"],
)
def test_query_wording(daraja: Daraja, wording: str) -> None:
    checkout_id = assert_accepted(daraja.push("254711000017"))["CheckoutRequestID"]
    daraja.wait_final(checkout_id)
    q = daraja.query(checkout_id)
    assert q.status_code == 200
    assert q.json()["ResponseDescription"] == f"The service request has been accepted {wording}"


# --------------------------------------------------------------------------- logs

SECRET = "consumer-secret-s3cr3t-value"
OTHER_PASSKEY = "f" * 64


@pytest.mark.parametrize(
    "settings", [Settings(time_scale=0, apps={"consumer-key": SECRET, "k2": "other-s3cr3t"})]
)
def test_refusals_log_why_and_never_secrets(
    daraja: Daraja, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator")
    r = daraja.http.get(
        "/oauth/v1/generate?grant_type=client_credentials", auth=("consumer-key", SECRET)
    )
    daraja._token = r.json()["access_token"]
    bad_oauth = daraja.http.get(
        "/oauth/v1/generate?grant_type=client_credentials", auth=("consumer-key", "other-s3cr3t")
    )
    assert bad_oauth.status_code == 400 and bad_oauth.content == b""

    ts = now_ts()
    sent: list[str] = []

    def refused(pw: str, why: str, **fields: Any) -> None:
        sent.append(pw)
        caplog.clear()
        r = daraja.push("254711000018", Timestamp=ts, Password=pw, **fields)
        assert r.status_code == 500, r.text
        text = "\n".join(rec.getMessage() for rec in caplog.records)
        assert why in text, text
        all_text.append(text)

    all_text: list[str] = []
    refused(password("20200101000000"), "timestamp inside Password")
    refused(password(ts, passkey=OTHER_PASSKEY), "passkey inside Password differs")
    refused("not base64!", "not valid base64")
    refused(password(ts, shortcode="174380"), "does not start with BusinessShortCode")
    caplog.clear()
    r = daraja.push("254711000018", BusinessShortCode="600999", Password=password(ts, "600999"))
    assert r.status_code == 500
    all_text.append("\n".join(rec.getMessage() for rec in caplog.records))
    assert "600999 is not registered" in all_text[-1]
    caplog.clear()
    good = password(ts)
    sent.append(good)
    accepted = assert_accepted(daraja.push("254711000019", Timestamp=ts, Password=good))
    assert daraja.query(accepted["CheckoutRequestID"]).status_code == 200
    all_text.append("\n".join(rec.getMessage() for rec in caplog.records))

    everything = "\n".join(all_text)
    assert "refused: Wrong credentials" in everything
    for secret in (SANDBOX_PASSKEY, OTHER_PASSKEY, SECRET, "other-s3cr3t", *sent):
        assert secret not in everything


def test_no_part_of_the_passkey_is_logged(daraja: Daraja, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="emulator")
    no_ts = base64.b64encode(f"{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}".encode()).decode()
    r = daraja.push("254711000020", Password=no_ts)
    assert r.status_code == 500
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "refused: Wrong credentials" in text
    assert SANDBOX_PASSKEY[-10:] not in text


def test_trailing_slash_is_an_unknown_path(daraja: Daraja) -> None:
    r = daraja.http.post("/mpesa/stkpush/v1/processrequest/", json=daraja.push_body(),
                         headers=daraja.auth())
    assert r.status_code == 404 and r.json()["errorCode"] == "404.001.01"


def test_wrong_method_names_the_allowed_one(daraja: Daraja) -> None:
    r = daraja.http.get("/mpesa/stkpushquery/v1/query")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json()["errorCode"] == "405.001"
