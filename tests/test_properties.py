"""Property tests: whatever a client sends, the emulator answers the way Daraja answers.

Over real HTTP against module-scoped emulators (one per module, so hundreds of examples stay
fast), plus pure properties of `wire.parse_push`. Wire truth: daraja-reference.md sections 0,
1, 2.3, 3 and 8.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import string
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_SHORTCODE
from emulator.daraja.stk import wire
from emulator.kernel.errors import BadRequest
from tests.helpers import password

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"
ENVELOPE_KEYS = {"requestId", "errorCode", "errorMessage"}
PUSH_KEYS = {
    "MerchantRequestID",
    "CheckoutRequestID",
    "ResponseCode",
    "ResponseDescription",
    "CustomerMessage",
}
QUERY_KEYS = {
    "ResponseCode",
    "ResponseDescription",
    "MerchantRequestID",
    "CheckoutRequestID",
    "ResultCode",
    "ResultDesc",
}
PUSH_FIELDS = [
    "BusinessShortCode",
    "Password",
    "Timestamp",
    "TransactionType",
    "Amount",
    "PartyA",
    "PartyB",
    "PhoneNumber",
    "CallBackURL",
    "AccountReference",
    "TransactionDesc",
]
QUERY_FIELDS = ["BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"]
PUSH_LABELS = {*PUSH_FIELDS[:-1], "Remarks"}
QUERY_LABELS = {*QUERY_FIELDS}
# Daraja's own 500.001.1001 answers (reference 2.3); anything else at 500 is a crash of ours
LEGIT_500 = {
    "Wrong credentials",
    "Merchant does not exist",
    "Unable to lock subscriber, a transaction is already in process for the current subscriber",
}
TS = "20260115103000"
PASSWORD = password(TS)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def stk() -> Iterator[tuple[httpx.Client, str]]:
    """An emulator whose outcomes never come during the test (no callback leaves it)."""
    with EmulatorServer(Settings(time_scale=1000, seed=5)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            r = client.get(
                "/oauth/v1/generate?grant_type=client_credentials", auth=("key", "secret")
            )
            client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            body = valid_push("254711222000")
            r = client.post(PUSH, json=body)
            assert r.status_code == 200, r.text
            yield client, r.json()["CheckoutRequestID"]


@pytest.fixture(scope="module")
def oauth() -> Iterator[httpx.Client]:
    with EmulatorServer(Settings(time_scale=0, apps={"key": "secret"})) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client


# --------------------------------------------------------------------------- strategies


def valid_push(phone: str = "254708374149") -> dict[str, Any]:
    return {
        "BusinessShortCode": SANDBOX_SHORTCODE,
        "Password": PASSWORD,
        "Timestamp": TS,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1,
        "PartyA": phone,
        "PartyB": SANDBOX_SHORTCODE,
        "PhoneNumber": phone,
        "CallBackURL": "http://127.0.0.1:9/cb",
        "AccountReference": "REF-1",
        "TransactionDesc": "Payment",
    }


no_surrogates = st.characters(exclude_categories=("Cs",))
ascii_printable = st.characters(min_codepoint=32, max_codepoint=126)
msisdns = st.from_regex(r"254[71][0-9]{8}", fullmatch=True)
plausible = st.sampled_from(
    [
        "174379",
        174379,
        "254708374149",
        254708374149,
        "0712345678",
        "CustomerPayBillOnline",
        "CustomerBuyGoodsOnline",
        "http://127.0.0.1:9/cb",
        "https://<your-ngrok-url>/cb",
        TS,
        "20261340103000",
        PASSWORD,
        "1",
        1,
        "1.00",
        4.99,
        250000,
        250001,
        "",
        " ",
        "²",  # str.isdigit() says yes, int() says no
        "١",  # int() reads this one as 1
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**15, max_value=10**40),
    st.sampled_from([10**300, -(10**4000), 10**4000 + 7]),  # huge, still printable by json
    st.floats(),  # NaN and infinities too: json.dumps writes them, Python clients can send them
    st.text(max_size=20),
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,3})?", fullmatch=True),
    st.integers(min_value=4290, max_value=5000).map(lambda n: "9" * n),  # int() refuses these
    msisdns,
    plausible,
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def field_dicts(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(fields), st.sampled_from(fields), st.text(max_size=10))
    return st.dictionaries(keys, json_values, max_size=len(fields) + 2)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A valid body with a few fields dropped or replaced by arbitrary JSON."""
    body = dict(base)
    for name in draw(st.lists(st.sampled_from(sorted(base)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del body[name]
        else:
            body[name] = draw(st.one_of(scalars, json_values))
    return body


@st.composite
def push_bodies(draw: st.DrawFn) -> dict[str, Any]:
    phone = draw(st.one_of(msisdns, st.sampled_from(["254700001032", "254708374149"])))
    return draw(mutated(valid_push(phone)))


content_types = st.one_of(
    st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    st.text(alphabet=ascii_printable, max_size=40).map(str.strip),
)


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def post(client: httpx.Client, path: str, raw: bytes, content_type: str | None) -> httpx.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return client.post(path, content=raw, headers=headers)


# --------------------------------------------------------------------------- checks


def check(r: httpx.Response, kind: str) -> dict[str, Any]:
    """Daraja's answer shapes: a success body, or the three-key envelope with its own status."""
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict)
    if r.status_code == 200:
        assert set(body) == (PUSH_KEYS if kind == "push" else QUERY_KEYS), body
        assert all(isinstance(v, str) for v in body.values()), body
        assert body["ResponseCode"] == "0"
        if kind == "push":
            assert body["ResponseDescription"] == body["CustomerMessage"] == wire.ACCEPTED
            assert body["CheckoutRequestID"].startswith("ws_CO_")
        return body
    assert set(body) == ENVELOPE_KEYS, body
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["requestId"], body
    code, message = body["errorCode"], body["errorMessage"]
    assert r.status_code == int(code.split(".", 1)[0]), body
    assert r.status_code in (400, 500), body  # a valid token: never 404, never 405
    if r.status_code == 500:
        assert code.startswith("500.001.1001") and message in LEGIT_500, body
    else:
        labels = PUSH_LABELS if kind == "push" else QUERY_LABELS
        assert code == "400.002.02", body
        assert message in {f"Bad Request - Invalid {label}" for label in labels}, body
    return body


# --------------------------------------------------------------------------- push and query


@FUZZ
@given(value=json_values)
def test_push_any_json_value(stk: tuple[httpx.Client, str], value: Any) -> None:
    client, _ = stk
    check(post(client, PUSH, encode(value), "application/json"), "push")


@FUZZ
@given(body=field_dicts(PUSH_FIELDS))
@example(body={"Amount": "9" * 4301})  # int() refuses > 4300 digits
@example(body={"Amount": "²", "PhoneNumber": "254708374149"})  # isdigit() but not int()
def test_push_field_soup(stk: tuple[httpx.Client, str], body: dict[str, Any]) -> None:
    client, _ = stk
    check(post(client, PUSH, encode(body), "application/json"), "push")


@FUZZ
@given(body=push_bodies())
@example(body={**valid_push(), "Amount": "9" * 5000})  # once an Internal Server Error
def test_push_mutated_valid_body(stk: tuple[httpx.Client, str], body: dict[str, Any]) -> None:
    client, _ = stk
    answer = check(post(client, PUSH, encode(body), "application/json"), "push")
    if "errorCode" not in answer:  # accepted: then every field was valid
        wire.parse_push(body)


@FUZZ
@given(raw=st.binary(max_size=2000), content_type=content_types)
def test_push_raw_bytes(
    stk: tuple[httpx.Client, str], raw: bytes, content_type: str | None
) -> None:
    client, _ = stk
    check(post(client, PUSH, raw, content_type), "push")


@FUZZ
@given(body=push_bodies(), content_type=content_types)
def test_push_content_type_decides(
    stk: tuple[httpx.Client, str], body: dict[str, Any], content_type: str | None
) -> None:
    """JSON bytes are read only when sent as application/json (reference 2.3)."""
    client, _ = stk
    answer = check(post(client, PUSH, encode(body), content_type), "push")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        assert answer["errorMessage"] == "Bad Request - Invalid BusinessShortCode"


@FUZZ
@given(value=st.one_of(json_values, field_dicts(QUERY_FIELDS)))
def test_query_any_json(stk: tuple[httpx.Client, str], value: Any) -> None:
    client, _ = stk
    check(post(client, QUERY, encode(value), "application/json"), "query")


@FUZZ
@given(data=st.data())
def test_query_mutated_valid_body(stk: tuple[httpx.Client, str], data: st.DataObject) -> None:
    client, checkout_id = stk
    base = {
        "BusinessShortCode": SANDBOX_SHORTCODE,
        "Password": PASSWORD,
        "Timestamp": TS,
        "CheckoutRequestID": checkout_id,
    }
    body = data.draw(mutated(base))
    answer = check(post(client, QUERY, encode(body), "application/json"), "query")
    if body == base:
        assert answer["ResultCode"] == "4999"  # pending: time runs 1000 times slower here
        assert answer["CheckoutRequestID"] == checkout_id


@FUZZ
@given(raw=st.binary(max_size=2000), content_type=content_types)
def test_query_raw_bytes(
    stk: tuple[httpx.Client, str], raw: bytes, content_type: str | None
) -> None:
    client, _ = stk
    check(post(client, QUERY, raw, content_type), "query")


# --------------------------------------------------------------------------- OAuth


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def classify(header: str | None) -> str:
    """What Daraja makes of an Authorization header: right, unknown, malformed or unclear."""
    if header is None:
        return "malformed"
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return "malformed"
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "malformed"
    key, sep, secret = decoded.partition(":")
    if not sep:
        return "malformed"
    if not key or not secret:
        return "unclear"  # an empty key or secret: no capture says which answer Daraja gives
    return "right" if (key, secret) == ("key", "secret") else "unknown"


credentials = st.tuples(
    st.text(alphabet=no_surrogates, max_size=12), st.text(alphabet=no_surrogates, max_size=12)
)
authorizations = st.one_of(
    st.none(),
    st.just("Basic " + b64(b"key:secret")),
    st.just("basic  " + b64(b"key:secret")),
    credentials.map(lambda kv: "Basic " + b64(f"{kv[0]}:{kv[1]}".encode())),
    st.binary(max_size=30).map(lambda raw: "Basic " + b64(raw)),
    st.tuples(
        st.sampled_from(["Bearer", "Baerer", "Digest", "Token", "Basic", ""]),
        st.text(alphabet=ascii_printable, max_size=40),
    ).map(lambda parts: f"{parts[0]} {parts[1]}".strip()),
    st.text(alphabet=ascii_printable, max_size=60),
).map(lambda h: h if h is None else h.strip())  # h11 refuses edge whitespace
grant_types = st.one_of(
    st.none(),
    st.just("client_credentials"),
    st.sampled_from(["client_credentialss", "client_credentials ", "CLIENT_CREDENTIALS", ""]),
    st.text(alphabet=no_surrogates, max_size=20),
)
TOKEN = re.compile(f"[{re.escape(string.ascii_letters + string.digits)}]{{28}}")


@FUZZ
@given(authorization=authorizations, grant_type=grant_types)
def test_oauth_fuzz(oauth: httpx.Client, authorization: str | None, grant_type: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    params = {} if grant_type is None else {"grant_type": grant_type}
    r = oauth.get("/oauth/v1/generate", headers=headers, params=params)
    kind = classify(authorization)
    grant_ok = grant_type == "client_credentials"
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert kind == "right" and grant_ok
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert set(body) == {"access_token", "expires_in"} and body["expires_in"] == "3599"
        assert TOKEN.fullmatch(body["access_token"])
        return
    if r.content == b"":  # unknown credentials: Daraja's empty 400
        assert r.headers["content-type"].startswith("text/plain")
        assert kind == "unknown" and grant_ok
        return
    body = r.json()
    assert set(body) == ENVELOPE_KEYS and all(isinstance(v, str) for v in body.values())
    assert body["requestId"]
    expected = {
        ("400.008.01", "Invalid Authentication passed"),
        ("400.008.02", "Invalid grant type passed"),
    }
    assert (body["errorCode"], body["errorMessage"]) in expected
    if kind == "malformed":
        assert body["errorCode"] == "400.008.01"
    elif kind in ("right", "unknown"):
        assert not grant_ok and body["errorCode"] == "400.008.02"


# --------------------------------------------------------------------------- pure parse_push

hosts = st.one_of(
    st.sampled_from(["localhost", "127.0.0.1", "[::1]", "example.ngrok-free.app"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,15}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True),
)
urls = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https"]),
    hosts,
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    st.from_regex(r"(/[A-Za-z0-9._~-]{0,10}){0,3}(\?[a-z]=[0-9]{1,3})?", fullmatch=True),
)
nonblank = st.text(alphabet=no_surrogates, min_size=1, max_size=40).filter(str.strip)


def as_text_or_number(draw: st.DrawFn, number: int) -> int | str:
    return draw(st.sampled_from([number, str(number)]))


@st.composite
def valid_pushes(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The same valid push twice: numbers all as text, and each as text or number at random."""
    shortcode = draw(st.integers(10_000, 99_999_999))
    party_b = draw(st.integers(10_000, 99_999_999))
    amount = draw(st.integers(1, wire.MAX_AMOUNT))
    party_a = int(draw(msisdns))
    phone = int(draw(msisdns))
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    common = {
        "Password": draw(nonblank),
        "Timestamp": moment.strftime("%Y%m%d%H%M%S"),
        "TransactionType": draw(st.sampled_from(sorted(wire.TRANSACTION_TYPES))),
        "CallBackURL": draw(urls),
        "AccountReference": draw(nonblank),
        "TransactionDesc": draw(nonblank),
    }
    unknown = st.sampled_from(["Passkey", "Remarks", "Occasion", "amount", ""])
    extra = draw(st.dictionaries(unknown, scalars, max_size=2))  # unknown fields are ignored
    numbers = {
        "BusinessShortCode": shortcode,
        "Amount": amount,
        "PartyA": party_a,
        "PartyB": party_b,
        "PhoneNumber": phone,
    }
    as_text = {**common, **{k: str(v) for k, v in numbers.items()}}
    mixed = {**extra, **common, **{k: as_text_or_number(draw, v) for k, v in numbers.items()}}
    mixed["Amount"] = draw(st.sampled_from([amount, str(amount), float(amount), f"{amount}.00"]))
    return as_text, mixed, numbers


@settings(max_examples=150, deadline=None)
@given(case=valid_pushes())
def test_valid_pushes_parse_and_compare_as_text(
    case: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    as_text, mixed, numbers = case
    parsed = wire.parse_push(as_text)
    assert wire.parse_push(mixed) == parsed
    assert parsed.business_short_code == str(numbers["BusinessShortCode"])
    assert parsed.amount == numbers["Amount"]
    assert (parsed.party_a, parsed.party_b, parsed.phone) == (
        str(numbers["PartyA"]),
        str(numbers["PartyB"]),
        str(numbers["PhoneNumber"]),
    )
    assert parsed.password == as_text["Password"]
    assert parsed.timestamp == as_text["Timestamp"]
    assert parsed.callback_url == as_text["CallBackURL"]
    assert (parsed.account_reference, parsed.transaction_desc) == (
        as_text["AccountReference"],
        as_text["TransactionDesc"],
    )
    # the same push under require_https: accepted iff the URL is https
    https = as_text["CallBackURL"].startswith("https://")
    try:
        wire.parse_push(as_text, require_https=True)
    except BadRequest as exc:
        assert not https and exc.field == "CallBackURL"
    else:
        assert https


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(json_values, field_dicts(PUSH_FIELDS), push_bodies()))
@example(body={**valid_push(), "Amount": "9" * 5000})  # int() refuses > 4300 digits
def test_parse_push_only_ever_raises_bad_request(body: Any) -> None:
    try:
        push = wire.parse_push(body)
    except BadRequest as exc:
        assert exc.code == "400.002.02" and exc.field in PUSH_LABELS
    else:
        assert 1 <= push.amount <= wire.MAX_AMOUNT


@settings(max_examples=200, deadline=None)
@given(body=st.one_of(json_values, field_dicts(QUERY_FIELDS)))
def test_parse_query_only_ever_raises_bad_request(body: Any) -> None:
    try:
        wire.parse_query(body)
    except BadRequest as exc:
        assert exc.field in QUERY_LABELS
