"""Schemathesis against the OpenAPI description the emulator serves at /_emulator/openapi.json.

Generated requests (valid and invalid) go to a real server over real sockets. Every answer must
conform to the document (status, content type, body schema) and to Daraja's error rules: no
500 of ours (only Daraja's documented `500.001.1001` answers), every error is exactly the
three-string envelope with the status of the code's first segment, except OAuth's empty 400.

The server runs a single scenario that never posts a callback, and an initiator scenario that
never posts a result, so generated CallBackURLs and ResultURLs are never contacted, and no fault
scenarios, so the only 5xx a case can meet is a bug. The admin API's initiator endpoints are in
the document too: their errors are `{"error": "..."}`, and they never answer a 5xx. Bounded:
at most 100 generated cases per operation, plus schemathesis' coverage cases.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator import EmulatorServer, Settings
from emulator.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from emulator.kernel.errors import MERCHANT_UNKNOWN, SUBSCRIBER_LOCKED, WRONG_CREDENTIALS
from tests.helpers import Daraja

KEY, SECRET = "schemathesis-key", "schemathesis-secret"
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
UNKNOWN_APP = "Basic " + base64.b64encode(b"unknown-key:unknown-secret").decode()
OAUTH = "/oauth/v1/generate"
QUIET = """\
name: quiet
description: Pays at once and never posts a callback, so generated CallBackURLs stay untouched.
result_code: 0
delay: 0
callback: never
default: true
"""
QUIET_INITIATORS = """\
name: quiet-initiators
description: Any initiator request succeeds at once and its result is never posted.
initiator:
  result_code: 0
  result: never
  delay: 0
match:
  account_references: ["*"]
"""
DOCUMENTED_500 = {WRONG_CREDENTIALS, MERCHANT_UNKNOWN, SUBSCRIBER_LOCKED}
ADMIN = "/_emulator/"
B2C_V3 = "/mpesa/b2c/v3/paymentrequest"
DUPLICATE = ("500.002.1001", "Duplicate OriginatorConversationID.")  # B2C v3's repeat
CREDENTIAL = base64.b64encode(bytes(range(256))).decode()  # well-formed: 344 characters


@pytest.fixture(scope="module")
def st_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    folder: Path = tmp_path_factory.mktemp("quiet-scenarios")
    (folder / "quiet.yaml").write_text(QUIET, encoding="utf-8")
    (folder / "quiet-initiators.yaml").write_text(QUIET_INITIATORS, encoding="utf-8")
    config = Settings(
        time_scale=0, bundled_scenarios=False, scenario_dirs=(folder,), apps={KEY: SECRET},
        seed=11,
    )
    with EmulatorServer(config) as server:
        yield server


def _token(server: EmulatorServer) -> str:
    r = httpx.get(
        f"{server.url}{OAUTH}", params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def token(st_server: EmulatorServer) -> str:
    return _token(st_server)


@pytest.fixture(scope="module")
def known_checkout_id(st_server: EmulatorServer, token: str) -> str:
    """A completed transaction, so some generated queries ask about a real one."""
    client = Daraja(st_server.url, "http://127.0.0.1:9/never-called")  # quiet: never called
    try:
        r = client.http.post(
            "/mpesa/stkpush/v1/processrequest", json=client.push_body(),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        checkout_id: str = r.json()["CheckoutRequestID"]
        client.wait_final(checkout_id)
        return checkout_id
    finally:
        client.close()


# from a file, not from the server: schemathesis.pytest.from_fixture (4.32) reads
# `request.node._nodeid`, which pytest 9.2 no longer has; the last test below checks that the
# server serves exactly these bytes
DOCUMENT = files("emulator").joinpath("openapi.json")
# fields are validated before credentials, so an invalid request never reaches a 500: it is
# refused with 400 (bad field or OAuth query), 404 (bad Bearer token) or 405 (other method)
STRICT = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 404, 405]}}})
schema = schemathesis.openapi.from_path(str(DOCUMENT), config=STRICT)


def _text(value: Any) -> str | None:
    """A value the emulator reads as text (a JSON string or whole number), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def with_credentials(body: Any, checkout_id: str) -> None:
    """Give about half the generated bodies the right Password (and some queries a real id).

    Nearly every generated Password is wrong, so without this the cases would all stop at
    `Wrong credentials` and the 200 answers would never be checked. Only values that are
    already valid are replaced, by other valid values: invalid cases stay invalid.
    """
    if not isinstance(body, dict):
        return
    password, timestamp = _text(body.get("Password")), _text(body.get("Timestamp"))
    shortcode = _text(body.get("BusinessShortCode"))
    if not (password and password.strip() and len(password) % 2 == 0 and timestamp):
        return
    if shortcode and shortcode.isascii() and shortcode.isdigit() and 5 <= len(shortcode) <= 8:
        body["BusinessShortCode"] = shortcode = SANDBOX_SHORTCODE
    raw = f"{shortcode}{SANDBOX_PASSKEY}{timestamp}".encode()
    body["Password"] = base64.b64encode(raw).decode()
    reference = _text(body.get("CheckoutRequestID"))
    if reference and reference.strip() and len(reference) % 2 == 0:
        body["CheckoutRequestID"] = checkout_id


def with_initiator_fields(body: Any) -> None:
    """Give generated initiator bodies a well-formed SecurityCredential and known shortcodes,
    so some reach the acknowledgement; as in with_credentials, only valid values (a string
    credential, a 5-8 digit shortcode) are replaced, so invalid cases stay invalid."""
    if not isinstance(body, dict):
        return
    if isinstance(body.get("SecurityCredential"), str) and sum(
            body["SecurityCredential"].encode()) % 2 == 0:
        body["SecurityCredential"] = CREDENTIAL
    for key, known in (("PartyA", "600992"), ("ReceiverParty", "600992"), ("PartyB", "600000")):
        value = _text(body.get(key))
        if value and value.isascii() and value.isdigit() and 5 <= len(value) <= 8:
            body[key] = known


def with_valid_auth(case: Any, token: str) -> None:
    """Swap a generated `Bearer …` value (random, so wrong) for a real token, and a generated
    `Basic …` value for the configured app's credentials or, for about half the cases,
    well-formed unknown ones (which get OAuth's empty 400).

    A missing or mangled Authorization header is a generated invalid case and stays as it is:
    the emulator must refuse it (400.008.01 on OAuth, 404.001.03 on STK).
    """
    headers = case.headers or {}
    given = headers.get("Authorization")
    if not isinstance(given, str):
        return
    if case.path == OAUTH and given.startswith("Basic "):
        headers["Authorization"] = BASIC if sum(given.encode()) % 2 == 0 else UNKNOWN_APP
    elif case.path != OAUTH and given.startswith("Bearer "):
        headers["Authorization"] = f"Bearer {token}"


def _body(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _url_vault_fault(case: Any, response: Any, body: Any) -> bool:
    """The gateway's documented SOAP fault for registering 174379's C2B URLs."""
    return (case.path.endswith("/registerurl") and response.status_code == 500
            and isinstance(body, dict) and set(body) == {"Envelope"})


def no_500_of_ours(ctx: Any, response: Any, case: Any) -> bool | None:
    """Only Daraja's documented 500.001.1001 answers (and B2C v3's duplicate) may be a 5xx (no
    faults are configured); the admin API never answers one."""
    if response.status_code < 500:
        return None
    assert not case.path.startswith(ADMIN), f"a {response.status_code} of the admin API"
    body = _body(response)
    if _url_vault_fault(case, response, body):
        return None
    assert isinstance(body, dict), f"{response.status_code} without a JSON body: {response.text!r}"
    if case.path == B2C_V3 and (body.get("errorCode"), body.get("errorMessage")) == DUPLICATE:
        return None
    assert body.get("errorCode") == "500.001.1001", f"a 500 of ours: {body}"
    assert body.get("errorMessage") in DOCUMENTED_500, f"an undocumented 500: {body}"
    return None


def daraja_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every non-2xx is {requestId, errorCode, errorMessage} of strings, status = first segment;
    the one exception is OAuth's empty text/plain 400 for unknown credentials."""
    if 200 <= response.status_code < 300:
        return None
    media = response.headers.get("content-type", [""])
    media = media[0] if isinstance(media, list) else media
    if case.path == OAUTH and response.status_code == 400 and response.content == b"":
        assert media.startswith("text/plain"), media
        return None
    assert media.startswith("application/json"), media
    body = _body(response)
    if _url_vault_fault(case, response, body):
        return None
    assert isinstance(body, dict), f"not a JSON object: {response.text!r}"
    if case.path.startswith(ADMIN):  # the admin API's own error shape
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
        return None
    assert set(body) == {"requestId", "errorCode", "errorMessage"}, body
    assert all(isinstance(v, str) and v for v in body.values()), body
    assert response.status_code == int(body["errorCode"].split(".", 1)[0]), body
    return None


CHECKS = [
    no_500_of_ours,
    daraja_envelope,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_daraja_endpoints_keep_their_contract(
    case: Any, st_server: EmulatorServer, token: str, known_checkout_id: str
) -> None:
    with_credentials(case.body, known_checkout_id)
    with_initiator_fields(case.body)
    with_valid_auth(case, token)
    response = case.call(base_url=st_server.url, timeout=10)
    case.validate_response(response, checks=CHECKS)


def test_the_document_is_served_as_stored_without_the_admin_token() -> None:
    with EmulatorServer(Settings(time_scale=0, admin_token="s3cret")) as server:
        r = httpx.get(f"{server.url}/_emulator/openapi.json")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.content == DOCUMENT.read_bytes()
        document = r.json()
        assert document["openapi"].startswith("3.")
        c2b = {f"/mpesa/c2b/{v}/{op}" for v in ("v1", "v2") for op in ("registerurl", "simulate")}
        initiators = {B2C_V3, "/mpesa/b2c/v1/paymentrequest", "/mpesa/b2b/v1/paymentrequest",
                      "/mpesa/reversal/v1/request", "/mpesa/transactionstatus/v1/query",
                      "/mpesa/accountbalance/v1/query"}
        admin = {f"/_emulator/initiators/{p}" for p in (
            "results", "results/{conversation_id}", "results/{conversation_id}/fast-forward",
            "fast-forward", "queue", "certificate", "{name}/unlock")}
        assert set(document["paths"]) == {
            OAUTH, "/mpesa/stkpush/v1/processrequest", "/mpesa/stkpushquery/v1/query", *c2b,
            "/mpesa/qrcode/v1/generate", *initiators, *admin}
        assert httpx.get(f"{server.url}/_emulator/transactions").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", OAUTH, "GET, HEAD"),
        ("GET", "/mpesa/stkpush/v1/processrequest", "POST"),
        ("PUT", "/mpesa/stkpushquery/v1/query", "POST"),
    ],
)
def test_other_methods_get_the_documented_405(
    st_server: EmulatorServer, method: str, path: str, allowed: str
) -> None:
    """schemathesis sends these too, but checks no documented header on them."""
    document = json.loads(DOCUMENT.read_bytes())
    assert "Allow" in document["components"]["responses"]["MethodNotAllowed"]["headers"]
    r = httpx.request(method, f"{st_server.url}{path}")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == set(allowed.split(", "))
    assert r.json()["errorCode"] == "405.001" and set(r.json()) == {
        "requestId", "errorCode", "errorMessage"}
