"""EmulatorHandle's initiator methods against a real server: results, waiting for one (and the
report when none comes), queued outcomes, fast-forward, unlocks, the strict certificate; and
the admin endpoints' numbers (?limit=, count) refused with a 400, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings
from emulator.handle import EmulatorHandle, ResultTimeout
from tests.helpers import CallbackReceiver, Daraja
from tests.initiator_client import call, wait_result


@pytest.fixture
def emu(server: EmulatorServer) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(server.url) as handle:
        yield handle


def test_results_list_and_one_by_either_id(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    ack = call(daraja, receiver, "b2c", OriginatorConversationID="refund-1").json()
    job = emu.wait_for_result(ack["ConversationID"])
    assert (job["api"], job["state"], job["result_code"]) == ("b2c", "completed", 0)
    assert job["result"]["Result"]["ConversationID"] == ack["ConversationID"]
    assert job["attempts"][0]["status"] == 200
    assert emu.initiator_result("refund-1")["conversation_id"] == ack["ConversationID"]
    call(daraja, receiver, "balance")
    assert [r["api"] for r in emu.initiator_results()] == ["balance", "b2c"]
    assert [r["api"] for r in emu.initiator_results(api="b2c")] == ["b2c"]
    assert len(emu.initiator_results(limit=1)) == 1


def test_queued_outcome_for_one_api(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    queue = emu.queue_initiator("initiator-invalid", api="b2c", count=2)
    assert queue == [{"api": "b2c", "scenarios": ["initiator-invalid"] * 2}]
    balance = call(daraja, receiver, "balance").json()["ConversationID"]
    refund = call(daraja, receiver, "b2c").json()["ConversationID"]
    assert emu.wait_for_result(balance)["result_code"] == 0  # another API: not queued for it
    job = emu.wait_for_result(refund)
    assert (job["result_code"], job["scenario"]) == (2001, "initiator-invalid")
    assert emu.initiator_queue() == [{"api": "b2c", "scenarios": ["initiator-invalid"]}]
    emu.clear_initiator_queue()
    assert emu.initiator_queue() == []


def test_a_lost_result_ends_the_wait_with_no_post(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    emu.queue_initiator("initiator-result-lost")
    job = emu.wait_for_result(call(daraja, receiver, "b2c").json()["ConversationID"])
    assert (job["state"], job["result_mode"], job["attempts"]) == ("completed", "never", [])
    assert job["result"]["Result"]["ResultCode"] == 0  # decided (money moved), never posted


def test_twice_waits_for_both_posts(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    emu.queue_initiator("initiator-result-twice", api="balance")
    conversation_id = call(daraja, receiver, "balance").json()["ConversationID"]
    assert len(emu.wait_for_result(conversation_id, count=2)["attempts"]) == 2
    assert len(wait_result(receiver, conversation_id, count=2)) == 2


def test_timeout_reports_what_happened(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    emu.set_time_scale(1000)  # 1-3 s become 17-50 minutes
    conversation_id = call(daraja, receiver, "txstatus", TransactionID="UAB1234567").json()[
        "ConversationID"]
    with pytest.raises(ResultTimeout) as caught:
        emu.wait_for_result(conversation_id, timeout=0.1)
    message = str(caught.value)
    assert f"no result for {conversation_id} within 0.1s." in message
    assert "Its result is due in" in message and "fast_forward_result()" in message
    assert "Recent initiator requests (newest first, 1 shown):" in message
    assert f"{conversation_id} api=txstatus initiator=testapi" in message
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(ResultTimeout, match="no such initiator request"):
        emu.wait_for_result("AG_nothing", timeout=0)
    assert emu.fast_forward_result(conversation_id) == 1
    assert emu.wait_for_result(conversation_id)["result_code"] == 2032


def test_fast_forward_every_pending_result(
    emu: EmulatorHandle, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    emu.set_time_scale(1000)
    ids = [call(daraja, receiver, "balance").json()["ConversationID"] for _ in range(3)]
    assert [r["state"] for r in emu.initiator_results(state="pending")] == ["pending"] * 3
    assert emu.fast_forward_result() == 3
    assert all(emu.wait_for_result(i)["result_code"] == 0 for i in ids)
    assert emu.initiator_results(state="pending") == []


def test_unlock_and_certificate_in_lenient_mode(emu: EmulatorHandle) -> None:
    assert emu.unlock_initiator("testapi") is False
    with pytest.raises(Exception, match="--strict-credentials"):
        emu.initiator_certificate()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/initiators/results", {"limit": "²"}),
        ("/initiators/results", {"limit": "9" * 5000}),
        ("/initiators/results", {"limit": "0"}),
        ("/initiators/results", {"api": "stk"}),
        ("/initiators/results", {"state": "lost"}),
    ],
)
def test_listing_numbers_are_a_400(server: EmulatorServer, path: str, params: dict) -> None:
    r = httpx.get(f"{server.url}/_emulator{path}", params=params)
    assert r.status_code == 400 and set(r.json()) == {"error"}, r.text


@pytest.mark.parametrize(
    "body",
    [b'{"scenario": "initiator-invalid", "count": 1' + b"0" * 5000 + b"}",
     b'{"scenario": "initiator-invalid", "count": 1.5}',
     b'{"scenario": "initiator-invalid", "count": Infinity}',
     b'{"scenario": "initiator-invalid", "count": NaN}',
     b'{"scenario": "initiator-invalid", "count": true}',
     b'{"scenario": "initiator-invalid", "count": 0}',
     b'{"scenario": ["initiator-invalid"]}',
     b'{"scenario": "initiator-invalid", "api": "stk"}',
     b'["initiator-invalid"]'],
    ids=["huge", "fraction", "infinity", "nan", "boolean", "zero", "list", "api", "array"],
)
def test_queue_numbers_are_a_400(server: EmulatorServer, body: bytes) -> None:
    r = httpx.post(f"{server.url}/_emulator/initiators/queue", content=body,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and set(r.json()) == {"error"}, r.text
    assert httpx.get(f"{server.url}/_emulator/initiators/queue").json() == {"queue": []}


def test_queue_body_over_the_limit_is_a_413() -> None:
    with EmulatorServer(Settings(time_scale=0, max_body_bytes=64)) as server:
        r = httpx.post(f"{server.url}/_emulator/initiators/queue",
                       content=b'{"scenario": "' + b"x" * 200 + b'"}',
                       headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and set(r.json()) == {"error"}


def test_strict_mode_certificate_credential_lock_and_unlock() -> None:
    pytest.importorskip("cryptography")
    settings = Settings(time_scale=0, strict_credentials=True, initiators={"shop": "Sh0p#1"})
    receiver = CallbackReceiver()
    with EmulatorServer(settings) as server, EmulatorHandle(server.url) as emu:
        daraja = Daraja(server.url, receiver.url())
        pem = emu.initiator_certificate()
        assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
        good = emu.security_credential("Sh0p#1")
        ack = call(daraja, receiver, "balance", Initiator="shop", SecurityCredential=good)
        assert emu.wait_for_result(ack.json()["ConversationID"])["result_code"] == 0
        wrong = emu.security_credential("guess")
        for _ in range(3):
            ack = call(daraja, receiver, "balance", Initiator="shop", SecurityCredential=wrong)
            assert emu.wait_for_result(ack.json()["ConversationID"])["result_code"] == 2001
        ack = call(daraja, receiver, "balance", Initiator="shop", SecurityCredential=good)
        locked = emu.wait_for_result(ack.json()["ConversationID"])
        assert locked["result_code"] == 8006 and "locked" in locked["credential"]
        assert emu.unlock_initiator("shop") is True
        ack = call(daraja, receiver, "balance", Initiator="shop", SecurityCredential=good)
        assert emu.wait_for_result(ack.json()["ConversationID"])["result_code"] == 0
        daraja.close()
    receiver.close()


def test_admin_paths_answer_admin_errors_not_daraja_envelopes(server: EmulatorServer) -> None:
    """A wrong method or unknown path under /_emulator/ is the admin API's {"error"} shape."""
    r = httpx.request("TRACE", f"{server.url}/_emulator/initiators/results")
    assert r.status_code == 405 and set(r.json()) == {"error"} and r.headers["allow"]
    r = httpx.get(f"{server.url}/_emulator/initiators/nothing/here")
    assert r.status_code == 404 and set(r.json()) == {"error"}
    daraja = httpx.get(f"{server.url}/mpesa/nothing")  # Daraja's paths keep Daraja's envelope
    assert daraja.json()["errorCode"] == "404.001.01"
