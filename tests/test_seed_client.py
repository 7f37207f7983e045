"""The seed guide's own client code, pointed at the emulator by its base URL alone."""

from __future__ import annotations

import asyncio

import pytest

from emulator import EmulatorServer
from emulator.config import SANDBOX_PASSKEY
from tests.helpers import CallbackReceiver, Daraja, load_example_service

MPesaService = load_example_service()


@pytest.fixture
def seed_env(monkeypatch: pytest.MonkeyPatch, server: EmulatorServer,
             receiver: CallbackReceiver) -> None:
    monkeypatch.setenv("MPESA_CONSUMER_KEY", "sandbox-key")
    monkeypatch.setenv("MPESA_CONSUMER_SECRET", "sandbox-secret")
    monkeypatch.setenv("MPESA_PASSKEY", SANDBOX_PASSKEY)
    monkeypatch.setenv("MPESA_SHORTCODE", "174379")
    monkeypatch.setenv("MPESA_CALLBACK_URL", receiver.url("/api/mpesa/callback"))
    monkeypatch.setenv("MPESA_BASE_URL", server.url)


@pytest.mark.parametrize(("phone", "code"), [("254708374149", 0), ("254700001032", 1032)])
def test_seed_service_full_flow(seed_env: None, daraja: Daraja, receiver: CallbackReceiver,
                                phone: str, code: int) -> None:
    order = "LX-20260115-0042"
    answer = asyncio.run(
        MPesaService().initiate_stk_push(phone, 1500, order, f"Payment for order {order}"))
    assert answer["ResponseCode"] == "0"
    checkout_id = answer["CheckoutRequestID"]
    [callback] = receiver.wait(checkout_id)
    stk = callback["Body"]["stkCallback"]
    assert stk["ResultCode"] == code
    assert stk["MerchantRequestID"] == answer["MerchantRequestID"]
    assert daraja.query(checkout_id).json()["ResultCode"] == str(code)
