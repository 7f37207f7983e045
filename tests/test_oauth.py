"""OAuth over real HTTP: GET /oauth/v1/generate (daraja-reference.md section 1)."""

from __future__ import annotations

import base64
import re
import time

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import Daraja

GENERATE = "/oauth/v1/generate"
OK_GRANT = {"grant_type": "client_credentials"}
TOKEN = re.compile(r"[A-Za-z0-9]{28}")


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def generate(
    server: EmulatorServer, authorization: str | None, params: dict[str, str] | None = None
) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return httpx.get(
        server.url + GENERATE, params=OK_GRANT if params is None else params, headers=headers
    )


def assert_envelope(r: httpx.Response, code: str, message: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert isinstance(body["requestId"], str) and body["requestId"]
    assert (body["errorCode"], body["errorMessage"]) == (code, message)


def assert_token(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == "3599" and isinstance(body["expires_in"], str)
    assert TOKEN.fullmatch(body["access_token"]), body
    return body["access_token"]


def push(server: EmulatorServer, token: str, phone: str) -> httpx.Response:
    client = Daraja(server.url, "http://127.0.0.1:9/cb")
    client._token = token
    try:
        return client.push(phone)
    finally:
        client.close()


def test_success_body_is_exact(server: EmulatorServer) -> None:
    r = generate(server, basic("consumer-key", "consumer-secret"))
    token = assert_token(r)
    assert r.content.count(b'"3599"') == 1  # a JSON string on the wire
    assert assert_token(generate(server, basic("k", "s"))) != token


def test_any_credentials_without_configured_apps(server: EmulatorServer) -> None:
    assert_token(generate(server, basic("anything", "at all: even colons")))


def test_missing_authorization(server: EmulatorServer) -> None:
    assert_envelope(generate(server, None), "400.008.01", "Invalid Authentication passed")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer x",
        "Baerer x",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic Zm9v=YmFy",  # base64 with junk after the padding
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),  # not UTF-8
        base64.b64encode(b"key:secret").decode(),  # no scheme at all
        "key:secret",
    ],
)
def test_invalid_authentication(server: EmulatorServer, authorization: str) -> None:
    assert_envelope(generate(server, authorization), "400.008.01", "Invalid Authentication passed")


def test_basic_scheme_is_case_insensitive(server: EmulatorServer) -> None:
    assert_token(generate(server, basic("k", "s").replace("Basic", "basic")))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"grant_type": "client_credentialss"},
        {"grant_type": "client_credentials "},
        {"grant_type": ""},
        {"grant_type": "password"},
        {"grant": "client_credentials"},
    ],
    ids=["missing", "typo", "trailing-space", "empty", "password", "wrong-name"],
)
def test_invalid_grant_type(server: EmulatorServer, params: dict[str, str]) -> None:
    r = generate(server, basic("k", "s"), params)
    assert_envelope(r, "400.008.02", "Invalid grant type passed")


APPS = Settings(time_scale=0, apps={"key": "secret"})


@pytest.mark.parametrize("settings", [APPS])
@pytest.mark.parametrize(
    "key,secret", [("key", "wrong"), ("other", "secret"), ("KEY", "secret"), ("key", "secret ")]
)
def test_unknown_credentials_get_an_empty_400(
    server: EmulatorServer, key: str, secret: str
) -> None:
    r = generate(server, basic(key, secret))
    assert r.status_code == 400
    assert r.content == b""
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers.get("content-length") == "0"


@pytest.mark.parametrize("settings", [APPS])
def test_configured_app_credentials(server: EmulatorServer) -> None:
    token = assert_token(generate(server, basic("key", "secret")))
    assert push(server, token, "254711100001").status_code == 200
    # malformed requests still fail on form first, whatever the apps
    assert_envelope(generate(server, "Baerer x"), "400.008.01", "Invalid Authentication passed")
    r = generate(server, basic("key", "secret"), {"grant_type": "client_credentialss"})
    assert_envelope(r, "400.008.02", "Invalid grant type passed")


def test_issued_token_works_on_push(server: EmulatorServer) -> None:
    token = assert_token(generate(server, basic("k", "s")))
    r = push(server, token, "254711100002")
    assert r.status_code == 200, r.text
    assert r.json()["ResponseCode"] == "0"
    r = push(server, token[:-1] + ("a" if token[-1] != "a" else "b"), "254711100003")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "404.001.03"


def test_token_from_another_emulator_is_refused(server: EmulatorServer) -> None:
    with EmulatorServer(Settings(time_scale=0)) as other:
        foreign = assert_token(generate(other, basic("k", "s")))
    r = push(server, foreign, "254711100004")
    assert r.status_code == 404
    assert r.json()["errorMessage"] == "Invalid Access Token"


def test_token_survives_reset(server: EmulatorServer) -> None:
    token = assert_token(generate(server, basic("k", "s")))
    r = httpx.post(server.url + "/_emulator/reset")
    assert r.status_code == 200 and r.json() == {"reset": True}
    assert push(server, token, "254711100005").status_code == 200


def test_expire_endpoint_ends_every_token(server: EmulatorServer) -> None:
    first = assert_token(generate(server, basic("k", "s")))
    second = assert_token(generate(server, basic("k2", "s2")))
    r = httpx.post(server.url + "/_emulator/tokens/expire")
    assert r.status_code == 200 and r.json()["expired"] >= 2
    for token in (first, second):
        assert push(server, token, "254711100006").json()["errorCode"] == "404.001.03"
    fresh = assert_token(generate(server, basic("k", "s")))
    assert push(server, fresh, "254711100006").status_code == 200


@pytest.mark.parametrize("settings", [Settings(time_scale=0, token_lifetime=0.2)])
def test_tokens_expire_after_their_lifetime(server: EmulatorServer) -> None:
    start = time.monotonic()
    token = assert_token(generate(server, basic("k", "s")))
    r = push(server, token, "254711100007")
    if time.monotonic() - start < 0.15:  # a loaded machine may take longer than the lifetime
        assert r.status_code == 200, r.text
    time.sleep(0.5)
    r = push(server, token, "254711100008")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "404.001.03"
    assert r.json()["errorMessage"] == "Invalid Access Token"
