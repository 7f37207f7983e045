"""The dashboard's money, in real headless Chromium: balances on the phones, Lipa na M-PESA
(Pay Bill, Buy Goods) with the PIN prompt, scanning a Dynamic QR the API generated, and the
businesses with their statements, all updated live over the event stream. The shop's C2B URLs
are a real listener; every admin call the page makes passes the admin API's guard (JSON
Content-Type, same origin), so a page that forgot it would fail here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from emulator import Settings
from tests import initiator_client
from tests.c2b_receiver import MerchantReceiver
from tests.helpers import CallbackReceiver, Daraja
from tests.test_dashboard import SLOW, Dashboard, browser, dashboard  # noqa: F401

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TILL = "5212345"
FAST_TILL = Settings(time_scale=0.01, seed=7, tills=(TILL,))
QR = {"MerchantName": "TEST SUPERMARKET", "RefNo": "Invoice Test", "Amount": 40,
      "TrxCode": "BG", "CPI": TILL, "Size": "300"}


@pytest.fixture
def merchant() -> Iterator[MerchantReceiver]:
    m = MerchantReceiver()
    yield m
    m.close()


def register(daraja: Daraja, merchant: MerchantReceiver, shortcode: str) -> None:
    r = daraja.http.post("/mpesa/c2b/v1/registerurl", headers=daraja.auth(), json={
        "ShortCode": shortcode, "ResponseType": "Completed",
        "ConfirmationURL": merchant.url("/confirm"), "ValidationURL": merchant.url("/validate")})
    assert r.status_code == 200, r.text


def send_pin(d: Dashboard, pin: str = "1234") -> None:
    wallet = d.page.locator("section.wallet")
    wallet.get_by_label("M-PESA PIN").fill(pin)
    wallet.get_by_role("button", name="Send").click()


def test_pay_bill_from_the_phone_reaches_the_shop_and_the_books(
    browser: Browser, receiver: CallbackReceiver, merchant: MerchantReceiver  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST_TILL) as d:
        register(d.daraja, merchant, "600100")
        wallet = d.page.locator("section.wallet")
        wallet.get_by_label("Phone number").fill("254712000001")
        expect(wallet.locator("#wallet-balance")).to_contain_text("Balance: KES 100,000.00")
        wallet.get_by_role("button", name="Pay Bill").click()
        wallet.get_by_label("Business no.").fill("600100")
        wallet.get_by_label("Account no.").fill("INV-9")
        wallet.get_by_label("Amount (KES)").fill("250")
        wallet.get_by_role("button", name="Continue").click()
        expect(wallet.locator("#wallet-prompt")).to_have_text(
            "Pay KES 250 to Safaricom Daraja 100 (600100) account no. INV-9? Enter M-PESA PIN:")
        send_pin(d)
        [validation] = merchant.wait("/validate")
        [confirmation] = merchant.wait("/confirm")
        assert (validation["BillRefNumber"], confirmation["TransAmount"]) == ("INV-9", "250.00")
        status = wallet.locator("#wallet-status")
        expect(status).to_contain_text(f"{confirmation['TransID']}: KES 250 to 600100")
        expect(status).to_contain_text("✓ Completed")
        expect(wallet.locator("#wallet-balance")).to_contain_text("Balance: KES 99,750.00")
        payment = d.daraja.admin("GET", f"/c2b/payments/{confirmation['TransID']}")
        assert payment["origin"] == "phone"

        business = d.page.locator('article.business[data-shortcode="600100"]')
        expect(business).to_contain_text("Utility Account")
        expect(business).to_contain_text("KES 1,000,250.00")
        business.get_by_role("button", name="Statement of 600100").click()
        row = d.page.locator("#statement-rows tr")
        expect(row).to_have_count(1)
        for text in (confirmation["TransID"], "C2B", "254712000001", "INV-9", "250.00",
                     "1,000,250.00"):
            expect(row).to_contain_text(text)
        expect(d.page.locator("#books-total")).to_contain_text("payments never change it")


def test_buy_goods_asks_no_account_and_a_refusal_is_shown(
    browser: Browser, receiver: CallbackReceiver  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST_TILL, allowed=("status of 404",)) as d:
        wallet = d.page.locator("section.wallet")
        wallet.get_by_role("button", name="Buy Goods").click()
        expect(wallet.get_by_label("Account no.")).to_be_hidden()
        wallet.get_by_label("Till no.").fill("99999")  # no such business
        wallet.get_by_label("Amount (KES)").fill("10")
        wallet.get_by_role("button", name="Continue").click()
        expect(d.page.locator("#error")).to_contain_text("no business with shortcode 99999")
        wallet.get_by_label("Till no.").fill(TILL)
        wallet.get_by_role("button", name="Continue").click()
        expect(wallet.locator("#wallet-prompt")).to_contain_text(
            f"Pay KES 10 to DARAJA EMULATOR till {TILL}?")
        send_pin(d)
        expect(wallet.locator("#wallet-status")).to_contain_text("✓ Completed")
        [entry] = d.daraja.admin("GET", "/ledger/entries", params={"shortcode": TILL})["entries"]
        assert (entry["account"], entry["amount"], entry["phone"]) == (
            "Merchant Account", "10.00", "254708374149")


def test_scanning_a_generated_qr_pays_what_it_encodes(
    browser: Browser, receiver: CallbackReceiver  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST_TILL) as d:
        r = d.daraja.http.post("/mpesa/qrcode/v1/generate", headers=d.daraja.auth(), json=QR)
        assert r.status_code == 200, r.text
        code = d.page.locator("li.qr-code")
        expect(code).to_have_count(1)  # arrived live
        image = code.get_by_role("img")
        expect(image).to_have_attribute("alt", f"QR code: Buy Goods KES 40 to {TILL} "
                                        "(TEST SUPERMARKET), reference Invoice Test")
        assert image.evaluate("img => img.naturalWidth") == 300  # the PNG the API answered
        code.get_by_role("button", name="Scan with the phone").click()
        wallet = d.page.locator("section.wallet")
        expect(wallet.locator("#wallet-prompt")).to_have_text(  # decoded from the code's text
            f"Buy Goods: pay KES 40 to TEST SUPERMARKET (till {TILL}), ref. Invoice Test? "
            "Enter M-PESA PIN:")
        send_pin(d)
        expect(wallet.locator("#wallet-status")).to_contain_text("✓ Completed")
        [payment] = d.daraja.admin("GET", "/c2b/payments")["payments"]
        assert (payment["origin"], payment["amount"], payment["bill_ref"]) == (
            "qr", 40, "Invoice Test")
        expect(wallet.locator("#wallet-balance")).to_contain_text("KES 99,960.00")

        sm = {**QR, "TrxCode": "SM", "CPI": "254708374149"}
        assert d.daraja.http.post("/mpesa/qrcode/v1/generate", headers=d.daraja.auth(),
                                  json=sm).status_code == 200
        expect(code).to_have_count(2)
        send_money = code.first  # newest first
        expect(send_money).to_contain_text("Pays a person or an agent")
        expect(send_money.get_by_role("button", name="Scan with the phone")).to_be_disabled()


def test_stk_prompts_show_the_wallet_balance(
    browser: Browser, receiver: CallbackReceiver  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, SLOW) as d:
        d.daraja.admin("PUT", "/ledger/customers/254708374149", json={"balance": 1234.5})
        checkout_id = d.push("254708374149")
        expect(d.phone(checkout_id).locator(".balance")).to_contain_text(
            "Balance: KES 1,234.50")
        d.tap(checkout_id, "Pay")
        expect(d.page.locator("#wallet-balance")).to_contain_text("Balance: KES 1,233.50")


def test_phone_sized_screen_fits_the_money_panels(
    browser: Browser, receiver: CallbackReceiver, merchant: MerchantReceiver  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    viewport = {"width": 390, "height": 844}
    with dashboard(browser, receiver, FAST_TILL, viewport=viewport, is_mobile=True) as d:
        d.daraja.http.post("/mpesa/qrcode/v1/generate", headers=d.daraja.auth(), json=QR)
        d.daraja.admin("POST", "/c2b/pay", json={"shortcode": "600100", "phone": "254708374149",
                                                  "amount": 5, "bill_ref": "A-LONG-REF-0001"})
        expect(d.page.locator("li.qr-code")).to_have_count(1)
        business = d.page.locator('article.business[data-shortcode="600100"]')
        business.get_by_role("button", name="Statement of 600100").click()
        expect(d.page.locator("#statement-rows tr")).to_have_count(1)
        width = d.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"page is {width}px wide on a 390px screen"


def test_a_b2c_result_moves_the_phone_and_the_business_live(
    browser: Browser, receiver: CallbackReceiver  # noqa: F811
) -> None:
    """Initiator results move money too: the page refreshes on their events, no reload."""
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST_TILL) as d:
        wallet = d.page.locator("section.wallet")
        wallet.get_by_label("Phone number").fill("254705912645")
        expect(wallet.locator("#wallet-balance")).to_contain_text("Balance: KES 100,000.00")
        ack = initiator_client.call(d.daraja, receiver, "b2c", Amount=300)
        assert ack.status_code == 200, ack.text
        [result] = initiator_client.wait_result(receiver, ack.json()["ConversationID"])
        assert result["ResultCode"] == 0
        expect(wallet.locator("#wallet-balance")).to_contain_text("Balance: KES 100,300.00")
        business = d.page.locator('article.business[data-shortcode="600992"]')
        expect(business).to_contain_text("KES 999,700.00")  # the paying shortcode appears
