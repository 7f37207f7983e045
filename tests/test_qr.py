"""Dynamic QR over real sockets: the captured answer, each field's refusal, a PNG that a real QR
reader (zxing-cpp) reads back to the payload, a phone scanning it into a C2B payment, and the
fault gate on the C2B and QR endpoints."""

from __future__ import annotations

import base64
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import EmulatorServer, Settings
from emulator.daraja.qr import payload
from emulator.daraja.qr.wire import parse_generate
from emulator.kernel.errors import BadRequest
from tests.helpers import Daraja

GOOD = {"MerchantName": "TEST SUPERMARKET", "RefNo": "Invoice Test", "Amount": 1,
        "TrxCode": "BG", "CPI": "373132", "Size": "300"}
TILL = "5212345"


@pytest.fixture(scope="module")
def qr_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Settings(time_scale=0, seed=5, tills=(TILL,))) as s:
        yield s


@pytest.fixture
def shop(qr_server: EmulatorServer) -> Iterator[Daraja]:
    client = Daraja(qr_server.url, "http://127.0.0.1:9/unused")
    client.admin("POST", "/reset", json={})
    yield client
    client.close()


def generate(shop: Daraja, **fields: Any) -> Any:
    return shop.http.post("/mpesa/qrcode/v1/generate", json={**GOOD, **fields},
                          headers=shop.auth())


def read_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, colour type, grey pixels) of a PNG, any of its five row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, _, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    raw, bpp = zlib.decompress(idat), 4
    stride, prev, grey = width * bpp, bytearray(width * bpp), bytearray()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    a if abs(p - a) <= min(abs(p - b), abs(p - c)) else b if abs(p - b) <= abs(
                        p - c) else c][kind]
            line[i] = (line[i] + pred) & 0xFF
        grey += line[0::bpp]
        prev = line
    return width, height, colour, bytes(grey)


def test_answer_is_the_captured_shape_and_the_image_reads_back(shop: Daraja) -> None:
    import zxingcpp

    r = generate(shop)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["ResponseCode", "ResponseDescription", "QRCode"]  # no RequestID
    assert body["ResponseCode"] == "00"
    assert body["ResponseDescription"] == "The service request is processed successfully."
    width, height, colour, grey = read_png(base64.b64decode(body["QRCode"]))
    assert (width, height, colour) == (300, 300, 6)  # 300x300 RGBA, as both captures
    [found] = zxingcpp.read_barcodes(memoryview(grey).cast("B", (height, width)))
    asked = payload.decode(found.text)
    assert (asked.merchant_name, asked.ref_no, asked.amount, asked.trx_code, asked.cpi) == (
        "TEST SUPERMARKET", "Invoice Test", 1, "BG", "373132")
    [listed] = shop.admin("GET", "/qr")["codes"]
    assert listed["payload"] == found.text and listed["image"].endswith(body["QRCode"])


@pytest.mark.parametrize("size", [100, 257, 1000])
def test_size_is_the_image_side(shop: Daraja, size: int) -> None:
    r = generate(shop, Size=size)
    assert r.status_code == 200, r.text
    assert read_png(base64.b64decode(r.json()["QRCode"]))[:2] == (size, size)


@pytest.mark.parametrize(("field", "value"), [
    ("MerchantName", None), ("MerchantName", ""), ("MerchantName", "x" * 100),
    ("MerchantName", "TAB\there"), ("RefNo", None), ("RefNo", 4.5), ("Amount", 0),
    ("Amount", "1.5"), ("Amount", 250_001), ("Amount", True), ("TrxCode", "bg"),
    ("TrxCode", None), ("CPI", "12"), ("CPI", "0712345678"), ("Size", "99"), ("Size", 1001),
    ("Size", "300px"),
])
def test_each_field_is_refused_in_daraja_words(shop: Daraja, field: str, value: Any) -> None:
    r = generate(shop, **{field: value})
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == "400.002.02"
    assert r.json()["errorMessage"] == f"Bad Request - Invalid {field}"


def test_send_money_takes_a_phone_and_size_is_optional(shop: Daraja) -> None:
    body = {k: v for k, v in GOOD.items() if k != "Size"}
    r = shop.http.post("/mpesa/qrcode/v1/generate", headers=shop.auth(),
                       json={**body, "TrxCode": "SM", "CPI": 254708374149, "Amount": "10.00"})
    assert r.status_code == 200, r.text
    assert read_png(base64.b64decode(r.json()["QRCode"]))[:2] == (300, 300)


def test_not_json_and_no_token(shop: Daraja) -> None:
    r = shop.http.post("/mpesa/qrcode/v1/generate", content=b"nope", headers={
        **shop.auth(), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errorCode"].startswith("400.002")
    r = shop.http.post("/mpesa/qrcode/v1/generate", json=GOOD)
    assert r.status_code in (400, 401, 404) and "errorCode" in r.json()
    assert shop.admin("GET", "/qr")["codes"] == []


@given(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers()),
                 st.dictionaries(st.sampled_from(list(GOOD)), st.one_of(
                     st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=120)))))
@settings(max_examples=300, deadline=None)
def test_any_body_parses_or_names_a_field(body: Any) -> None:
    try:
        req = parse_generate(body)
    except BadRequest as exc:
        assert exc.field in GOOD
        return
    assert 1 <= req.amount <= 250_000 and 100 <= req.size <= 1000


@given(name=st.text(min_size=1, max_size=99).filter(lambda t: t.strip() and t.isprintable()),
       ref=st.text(min_size=1, max_size=99), amount=st.integers(1, 250_000),
       trx=st.sampled_from(["BG", "PB", "SB", "WA", "SM"]),
       cpi=st.from_regex(r"[0-9]{5,12}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_payload_reads_back_whatever_it_holds(
    name: str, ref: str, amount: int, trx: str, cpi: str
) -> None:
    text = payload.encode(name, ref, amount, trx, cpi)
    assert payload.decode(text) == payload.Decoded(name, ref, amount, trx, cpi)
    with pytest.raises(payload.PayloadError):
        payload.decode(text[:-1] + ("0" if text[-1] != "0" else "1"))  # a wrong CRC


def wait_state(shop: Daraja, trans_id: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = shop.admin("GET", f"/c2b/payments/{trans_id}")
        if p["state"] in ("completed", "rejected", "failed"):
            return p
        time.sleep(0.02)
    raise AssertionError(f"{trans_id} did not end")


def test_scanning_a_code_pays_it_through_c2b(shop: Daraja) -> None:
    text = payload.encode("KIOSK", "INV-7", 250, "BG", TILL)
    before = shop.admin("GET", "/ledger/customers/254708374149")["balance"]
    r = shop.http.post("/_emulator/qr/scan", json={"payload": text, "phone": "254708374149"})
    assert r.status_code == 201, r.text
    assert (r.json()["origin"], r.json()["transaction_type"]) == ("qr", "Buy Goods")
    assert wait_state(shop, r.json()["trans_id"])["state"] == "completed"
    after = shop.admin("GET", "/ledger/customers/254708374149")["balance"]
    assert float(before) - float(after) == 250
    [entry] = shop.admin("GET", "/ledger/entries", params={"shortcode": TILL})["entries"]
    assert (entry["amount"], entry["reference"], entry["account"]) == (
        "250.00", "INV-7", "Merchant Account")


@pytest.mark.parametrize(("text", "status", "words"), [
    (payload.encode("FRIEND", "x", 5, "SM", "254708374149"), 422, "Send Money"),
    (payload.encode("SHOP", "x", 5, "PB", "12345"), 404, "no business"),
    (payload.encode("SHOP", "x", 5, "BG", "600100"), 400, "is a paybill"),
    ("000201" + "6304ABCD", 422, "CRC"),
])
def test_scans_that_cannot_pay_say_why(shop: Daraja, text: str, status: int, words: str) -> None:
    r = shop.http.post("/_emulator/qr/scan", json={"payload": text, "phone": "254708374149"})
    assert r.status_code == status and words in r.json()["error"], r.text


@pytest.mark.parametrize(("endpoint", "path", "body"), [
    ("qr", "/mpesa/qrcode/v1/generate", GOOD),
    ("c2b-register", "/mpesa/c2b/v1/registerurl", {"ShortCode": "600100"}),
    ("c2b-simulate", "/mpesa/c2b/v2/simulate", {"ShortCode": "600100"}),
    ("any", "/mpesa/c2b/v1/simulate", {}),
])
def test_admin_faults_reach_c2b_and_qr(shop: Daraja, endpoint: str, path: str,
                                       body: dict[str, Any]) -> None:
    auth = shop.auth()  # before the fault: "any" would take the token request too
    shop.admin("POST", "/faults", json={"fault": "quota", "endpoint": endpoint, "count": 1})
    r = shop.http.post(path, json=body, headers=auth)
    assert (r.status_code, r.json()["errorCode"]) == (500, "500.003.03")
    again = shop.http.post(path, json=body, headers=auth)
    assert again.status_code != 500  # the one fault is spent


def test_a_fault_scenario_matches_the_simulated_payer(tmp_path: Path) -> None:
    (tmp_path / "c2b-down.yaml").write_text(
        "name: c2b-down\nmatch: {phones: ['254799000077']}\n"
        "fault: {kind: unavailable, endpoints: [c2b-simulate, qr]}\n", encoding="utf-8")
    with EmulatorServer(Settings(time_scale=0, scenario_dirs=(tmp_path,))) as server:
        shop = Daraja(server.url, "http://127.0.0.1:9/unused")
        try:
            sim = {"ShortCode": "600100", "CommandID": "CustomerPayBillOnline", "Amount": 5,
                   "BillRefNumber": "A"}
            down = shop.http.post("/mpesa/c2b/v1/simulate", headers=shop.auth(),
                                  json={**sim, "Msisdn": "254799000077"})
            assert (down.status_code, down.content) == (503, b"")
            fine = shop.http.post("/mpesa/c2b/v1/simulate", headers=shop.auth(),
                                  json={**sim, "Msisdn": "254708374149"})
            assert fine.status_code == 200, fine.text
            sm = generate(shop, TrxCode="SM", CPI="254799000077")
            assert sm.status_code == 503
        finally:
            shop.close()


def test_older_wording_and_codes_survive_a_restart(tmp_path: Path) -> None:
    config = Settings(time_scale=0, qr_wording="2025", state_file=tmp_path / "state.db")
    with EmulatorServer(config) as server:
        shop = Daraja(server.url, "http://127.0.0.1:9/unused")
        r = generate(shop)
        assert r.json()["ResponseDescription"] == "QR Code Successfully Generated."
        first = shop.admin("GET", "/qr")["codes"]
        shop.close()
    with EmulatorServer(config) as server:
        shop = Daraja(server.url, "http://127.0.0.1:9/unused")
        assert shop.admin("GET", "/qr")["codes"] == first  # the same image, made again
        shop.close()
