"""Balances, entries, C2B registrations and payments survive a restart with --state."""

from __future__ import annotations

from pathlib import Path

from emulator import EmulatorServer, Settings
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import Daraja
from tests.test_c2b_e2e import CONFIRM, payment, register, simulate


def test_state_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(time_scale=0, seed=5, state_file=tmp_path / "state.db")
    merchant = MerchantReceiver()
    try:
        with EmulatorServer(settings) as first:
            shop = Daraja(first.url, "http://127.0.0.1:9/unused")
            register(shop, merchant, shortcode="600111", version="v2", validation=False)
            p = payment(shop, simulate(shop, shortcode="600111", amount=70)
                        .json()["OriginatorCoversationID"])
            merchant.wait(CONFIRM, trans_id=p["trans_id"])
            shop.admin("PUT", "/ledger/customers/254722000999", json={"balance": 12})
            before = shop.admin("GET", "/ledger/businesses/600111")
            shop.close()
        with EmulatorServer(settings) as second:
            shop = Daraja(second.url, "http://127.0.0.1:9/unused")
            assert shop.admin("GET", "/ledger/businesses/600111") == before
            assert shop.admin("GET", "/ledger/customers/254722000999")["balance"] == "12.00"
            assert shop.admin("GET", "/ledger/customers/254708374149")["balance"] == "99930.00"
            [entry] = shop.admin("GET", "/ledger/entries?shortcode=600111")["entries"]
            assert entry["receipt"] == p["trans_id"]
            [reg] = shop.admin("GET", "/c2b/registrations")["registrations"]
            assert (reg["shortcode"], reg["version"]) == ("600111", "v2")
            again = shop.admin("GET", f"/c2b/payments/{p['trans_id']}")
            assert again["state"] == "completed" and len(again["confirmation_attempts"]) == 1
            assert len(merchant.bodies(CONFIRM)) == 1  # nothing sent twice after the restart
            shop.admin("POST", "/reset", json={})
            assert shop.admin("GET", "/ledger/customers/254722000999")["balance"] == "100000.00"
            shop.close()
    finally:
        merchant.close()
