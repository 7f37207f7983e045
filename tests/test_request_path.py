"""The request path's shortcuts (issue 13) give exactly what the plain code gave: the body read
without a timer when it is already there (and under the deadline when it is not), the answer
sent without a Response object, Unix milliseconds without timedelta arithmetic, the prompt's
length without writing the prompt, shared strings in a parsed push."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.daraja.stk import wire
from emulator.daraja.stk.models import PushRequest
from emulator.daraja.stk.rules import prompt_length, prompt_text
from emulator.kernel.errors import InvalidPayload
from emulator.kernel.ids import IdSource
from emulator.kernel.web import DarajaJSON, _receive_all, send_json

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def messages(*chunks: bytes) -> list[dict[str, Any]]:
    return [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]


def receiver(queue: list[dict[str, Any]], wait: float = 0.0):  # noqa: ANN201
    """An ASGI receive answering the queued messages, each after `wait` seconds (0: at once,
    without suspending, as uvicorn does for a body that came with its head)."""

    async def receive() -> dict[str, Any]:
        if wait:
            await asyncio.sleep(wait)
        return queue.pop(0)

    return receive


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("timeout", [None, 5.0])
@pytest.mark.parametrize("wait", [0.0, 0.01])
def test_body_read_whole_at_once_or_waiting(timeout: float | None, wait: float) -> None:
    got = run(_receive_all(receiver(messages(b'{"a":', b"1}"), wait), 1000, timeout))
    assert b"".join(got) == b'{"a":1}'
    got = run(_receive_all(receiver(messages(b"x" * 300), wait), 1000, timeout))
    assert got == [b"x" * 300]


def test_body_over_the_limit_at_once_is_refused() -> None:
    with pytest.raises(InvalidPayload):
        run(_receive_all(receiver(messages(b"x" * 2000)), 1000, 5.0))


def test_disconnect_at_once_is_a_client_gone() -> None:
    from starlette.requests import ClientDisconnect

    with pytest.raises(ClientDisconnect):
        run(_receive_all(receiver([{"type": "http.disconnect"}]), 1000, 5.0))


def test_a_body_slower_than_the_deadline_is_invalid_payload() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(InvalidPayload) as caught:
            # first chunk at once, the rest never: the deadline counts from the start
            queue = messages(b"{", b"}")

            async def receive() -> dict[str, Any]:
                if len(queue) == 1:
                    await asyncio.sleep(60)
                return queue.pop(0)

            await _receive_all(receive, 1000, 0.2)
        assert 0.15 < loop.time() - started < 5
        assert "--body-timeout" in (caught.value.why or "")
        task = asyncio.current_task()
        if hasattr(task, "cancelling"):  # Python 3.11+: the deadline's cancel was taken back
            assert task.cancelling() == 0

    run(main())


def test_a_cancel_from_outside_stays_a_cancel() -> None:
    async def main() -> None:
        async def receive() -> dict[str, Any]:
            await asyncio.sleep(60)
            return messages(b"{}")[0]

        task = asyncio.create_task(_receive_all(receive, 1000, 30.0))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())


def test_send_json_sends_what_daraja_json_sends() -> None:
    content = {"ResponseCode": "0", "CustomerMessage": "Success. Request accepted – sawa"}

    async def collect(app: Any) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(send)
        return sent

    async def ours(send: Any) -> None:
        await send_json(send, content, 400)

    async def starlettes(send: Any) -> None:
        await DarajaJSON(content, status_code=400)({"type": "http"}, None, send)  # type: ignore[arg-type]

    assert run(collect(ours)) == run(collect(starlettes))


aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=3)),
                               timezone(timedelta(hours=-5, minutes=-30)),
                               timezone(timedelta(seconds=1, microseconds=250))]),
)


@settings(max_examples=300)
@given(st.lists(aware, min_size=1, max_size=6), st.lists(st.integers(0, 2500), max_size=6))
def test_unix_ms_is_exact(moments: list[datetime], steps_ms: list[int]) -> None:
    ids = IdSource(1)
    # each moment, then a few steps after it (the same second, mostly: the shortcut's case)
    for moment in moments:
        for at in [moment, *(moment + timedelta(microseconds=s * 997) for s in steps_ms)]:
            assert ids._unix_ms(at) == (at - EPOCH) // timedelta(milliseconds=1)


@given(st.integers(1, 250_000), st.text(max_size=300))
def test_prompt_length_is_the_prompts(amount: int, reference: str) -> None:
    req = PushRequest("174379", "pw", "20260115103000", "CustomerPayBillOnline", amount,
                      "254708374149", "174379", "254708374149", "https://x.test/cb", reference,
                      "desc")
    assert prompt_length(req) == len(prompt_text(req))


def test_a_parsed_push_shares_what_shops_repeat() -> None:
    def body(phone: str) -> dict[str, Any]:
        return json.loads(json.dumps({
            "BusinessShortCode": "174379", "Password": "cGFzcw==", "Timestamp": "20260115103000",
            "TransactionType": "CustomerPayBillOnline", "Amount": "10", "PartyA": phone,
            "PartyB": "174379", "PhoneNumber": phone, "CallBackURL": "https://shop.test/cb",
            "AccountReference": "INV-1", "TransactionDesc": "Pay"}))

    one, two = wire.parse_push(body("254708374149")), wire.parse_push(body("254708374150"))
    assert one.callback_url is two.callback_url and one.password is two.password
    assert one.party_a is one.phone
    assert one == PushRequest("174379", "cGFzcw==", "20260115103000", "CustomerPayBillOnline", 10,
                              "254708374149", "174379", "254708374149", "https://shop.test/cb",
                              "INV-1", "Pay")


_USUAL = {
    "BusinessShortCode": "174379", "Password": "cGFzcw==", "Timestamp": "20260115103000",
    "TransactionType": "CustomerPayBillOnline", "Amount": 10, "PartyA": "254708374149",
    "PartyB": "174379", "PhoneNumber": "254708374149", "CallBackURL": "https://shop.test/cb",
    "AccountReference": "INV-1", "TransactionDesc": "Pay",
}
# values near each field's edges: other types, non-ASCII digits, lengths, blanks, bad dates
_EDGY = st.one_of(
    st.sampled_from(["", " ", "0", "1234", "12345", "12345678", "123456789", "174379",
                     "254708374149", "2547083741490", "25470837414", "254208374149",
                     "254108374149", "２５４７０８３７４１４９", "2547٠8374149", "20260115103000",
                     "20261315103000", "2026011510300", "CustomerBuyGoodsOnline",
                     "https://x.test/cb", "http://x.test:0/cb", "https://x.test/{cb}",
                     "ftp://x.test", "250000", "250001", "1.0", "1.5", " 10", "\u00a0"]),
    st.integers(-2, 250_002), st.sampled_from([True, False, None, 1.0, 2.5, [], {}]),
    st.text(max_size=16),
)


@settings(max_examples=600)
@given(st.dictionaries(st.sampled_from(sorted(_USUAL)), _EDGY, max_size=4),
       st.sets(st.sampled_from(sorted(_USUAL)), max_size=2), st.booleans())
def test_the_usual_push_shortcut_agrees_with_the_rules(
    changes: dict[str, Any], dropped: set[str], require_https: bool
) -> None:
    """Whatever the one-pass check accepts, the rule table accepts with the same result; what
    it passes on, the rules answer (parse_push then raises exactly what they raise)."""
    body = {k: v for k, v in {**_USUAL, **changes}.items() if k not in dropped}
    fast = wire._parse_usual_push(body, require_https)
    try:
        ruled = wire._parse_push_by_rules(body, require_https)
    except Exception as exc:  # noqa: BLE001 - compared below
        assert fast is None, (body, exc)
        with pytest.raises(type(exc)) as caught:
            wire.parse_push(body, require_https=require_https)
        assert str(caught.value) == str(exc)
        return
    assert fast is None or fast == ruled
    assert wire.parse_push(body, require_https=require_https) == ruled


@given(st.one_of(st.text(max_size=14), st.sampled_from(["254708374149", "254108374149",
                                                         "2547083741٤9", "12345", "123456789"])))
def test_the_shortcut_checks_are_the_patterns(text: str) -> None:
    from emulator.kernel.formats import MSISDN
    assert wire._is_msisdn(text) == bool(MSISDN.fullmatch(text))
    assert wire._is_shortcode(text) == bool(wire._SHORTCODE.fullmatch(text))


def test_the_usual_push_takes_the_shortcut() -> None:
    assert wire._parse_usual_push(dict(_USUAL), False) == wire._parse_push_by_rules(_USUAL, False)


@given(st.integers(1, 250_000),
       st.one_of(st.integers(0, 2**31), st.integers(2**63, 2**80), st.text(max_size=8)),
       st.one_of(st.text(max_size=40), st.sampled_from(["\x7f", "a\ud800b", "\u00e9\x00"])),
       st.booleans())
def test_callback_bytes_are_the_stdlibs(amount: int, code: int | str, desc: str,
                                        balance: bool) -> None:
    """orjson with a fragment for the Amount writes what the stdlib path wrote, byte for byte,
    non-ASCII, DEL, control characters and lone surrogates in a scenario's ResultDesc and result
    codes past 64 bits (which orjson refuses) included."""
    items: list[dict[str, Any]] = [{"Name": "Amount", "Value": wire._Amount(amount)},
                                   {"Name": "MpesaReceiptNumber", "Value": "TLA1B2C3D4"}]
    if balance:
        items.append({"Name": "Balance"})
    items += [{"Name": "TransactionDate", "Value": 20261202143512},
              {"Name": "PhoneNumber", "Value": 254708374149}]
    payload = {"Body": {"stkCallback": {
        "MerchantRequestID": "6e86-45dd-91ac-fd5d4178ab52", "CheckoutRequestID": "ws_CO_1",
        "ResultCode": code, "ResultDesc": desc, "CallbackMetadata": {"Item": items}}}}
    assert wire.encode_callback(payload) == wire._encode_callback_stdlib(payload)
    assert b'"Value":%d.00' % amount in wire.encode_callback(payload)
