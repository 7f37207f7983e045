"""Strict credentials over real HTTP: the certificate served under /_emulator/, a credential
made with it accepted, a wrong password ending as 2001."""

from __future__ import annotations

import pytest

from emulator import Settings
from tests.helpers import CallbackReceiver, Daraja
from tests.initiator_client import call, wait_result

pytest.importorskip("cryptography")


@pytest.fixture
def settings() -> Settings:
    return Settings(time_scale=0, seed=5, strict_credentials=True,
                    initiators={"shopapi": "S3cret#"})


def test_strict_mode_decrypts_with_the_served_certificate(
    daraja: Daraja, receiver: CallbackReceiver
) -> None:
    from emulator.daraja.initiator.credential import encrypt

    pem = daraja.http.get("/_emulator/initiators/certificate").content
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    good = call(daraja, receiver, "b2c", InitiatorName="shopapi",
                SecurityCredential=encrypt(pem, "S3cret#"))
    [ok] = wait_result(receiver, good.json()["ConversationID"])
    assert ok["ResultCode"] == 0
    bad = call(daraja, receiver, "balance", Initiator="shopapi",
               SecurityCredential=encrypt(pem, "wrong"))
    assert bad.status_code == 200  # the ack says nothing of the credential
    [failed] = wait_result(receiver, bad.json()["ConversationID"])
    assert failed["ResultCode"] == 2001
    assert failed["ResultDesc"] == "The initiator information is invalid."
    job = daraja.admin("GET", f"/initiators/results/{bad.json()['ConversationID']}")
    assert "not the initiator's password" in job["credential"]
