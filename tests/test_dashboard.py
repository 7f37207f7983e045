"""The QA dashboard, end to end in real headless Chromium (Debian's package, driven by Playwright).

Pushes go over the Daraja API, callbacks reach a real listener, the page is watched as a tester
sees it. Without /usr/bin/chromium these tests skip, unless DARAJA_REQUIRE_BROWSER=1 (.ci/run
sets it), which makes a missing browser a failure. DARAJA_DASHBOARD_SCREENSHOT=docs/dashboard.png
saves the README's screenshot.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SLOW = Settings(time_scale=1, seed=7)  # success takes 10-30 s: time to click on the phone
FAST = Settings(time_scale=0.01, seed=7)  # every scenario ends within a second
TIMEOUT_MS = 5000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)"
        if os.environ.get("DARAJA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; DARAJA_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Dashboard:
    server: EmulatorServer
    page: Page
    daraja: Daraja
    problems: list[str] = field(default_factory=list)  # page errors and console errors

    def push(self, phone: str, **fields: Any) -> str:
        r = self.daraja.push(phone, **fields)
        assert r.status_code == 200, r.text
        return r.json()["CheckoutRequestID"]

    def card(self, checkout_id: str) -> Locator:
        return self.page.locator(f'li.txn[data-id="{checkout_id}"]')

    def phone(self, checkout_id: str) -> Locator:
        return self.page.locator(f'article.phone[data-id="{checkout_id}"]')

    def tap(self, checkout_id: str, button: str) -> None:
        self.phone(checkout_id).get_by_role("button", name=button, exact=True).click()


@contextmanager
def dashboard(
    browser: Browser,
    receiver: CallbackReceiver,
    settings: Settings,
    *,
    live: bool = True,
    allowed: tuple[str, ...] = (),
    **context_options: Any,
) -> Iterator[Dashboard]:
    """A fresh emulator and a fresh browser context on `GET /`; fails on any page error."""
    from playwright.sync_api import expect

    receiver.status, receiver.delay = 200, 0.0
    with EmulatorServer(settings) as server:
        context = browser.new_context(**context_options)
        page = context.new_page()
        dash = Dashboard(server, page, Daraja(server.url, receiver.url()))
        page.on("pageerror", lambda exc: dash.problems.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda m: m.type == "error" and dash.problems.append(f"console: {m.text}"),
        )
        try:
            page.goto(server.url + "/")
            assert page.url == server.url + "/_emulator/dashboard/"
            if live:
                expect(page.locator("#live")).to_have_attribute("data-live", "yes")
            yield dash
            unexpected = [p for p in dash.problems if not any(a in p for a in allowed)]
            assert not unexpected, unexpected
        finally:
            dash.daraja.close()
            context.close()


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def result_code(receiver: CallbackReceiver, checkout_id: str) -> int:
    return receiver.wait(checkout_id)[0]["Body"]["stkCallback"]["ResultCode"]


def seconds(text: str | None) -> int:
    match = re.search(r"(\d+) s$", text or "")
    assert match, text
    return int(match.group(1))


def test_served_open_and_root_sends_browsers_to_it() -> None:
    with EmulatorServer(Settings(time_scale=0, admin_token="s3cret")) as server:
        with httpx.Client(base_url=server.url) as http:
            r = http.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
            assert (r.status_code, r.headers["location"]) == (302, "/_emulator/dashboard/")
            api_client = http.get("/")  # not a browser: Daraja's own 404 envelope
            assert api_client.status_code == 404
            assert api_client.json()["errorCode"] == "404.001.01"
            page = http.get("/_emulator/dashboard/")  # open although the admin API is not
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert 'data-business="DARAJA EMULATOR"' in page.text and "{{" not in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
            for asset, kind in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
                r = http.get(f"/_emulator/dashboard/{asset}")
                assert r.status_code == 200 and kind in r.headers["content-type"]
            assert http.get("/_emulator/dashboard").headers["location"] == "/_emulator/dashboard/"
            assert http.get("/_emulator/dashboard/missing.js").status_code == 404
            assert http.get("/_emulator/transactions").status_code == 401


def test_a_push_appears_live_with_the_phone_prompt(
    browser: Browser, receiver: CallbackReceiver
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, SLOW) as d:
        d.page.evaluate("window.notReloaded = true")
        checkout_id = d.push("254708374149")
        card = d.card(checkout_id)
        for text in ("254708374149", "KES 1", "LX-20260115-0042", "174379", "success", "Pending"):
            expect(card).to_contain_text(text)
        expect(card.locator("dl.facts")).to_contain_text(re.compile(r"Time\s*\d\d:\d\d:\d\d"))
        phone = d.phone(checkout_id)
        expect(phone).to_contain_text(
            "Do you want to pay KES 1 to DARAJA EMULATOR Account no. LX-20260115-0042? "
            "Enter M-PESA PIN:"
        )
        expect(phone.get_by_label("M-PESA PIN")).to_be_editable()
        for name in ("Pay", "Wrong PIN", "Cancel", "Insufficient balance", "Let it time out"):
            expect(phone.get_by_role("button", name=name, exact=True)).to_be_enabled()
        expect(d.page.locator("#announcer")).to_contain_text("New STK push: KES 1 from 2547083")
        countdown = phone.locator(".countdown")
        expect(countdown).to_contain_text("Outcome 0 (success) in")
        first = seconds(countdown.text_content())
        assert 5 <= first <= 30
        eventually(lambda: seconds(countdown.text_content()) < first, timeout=3)
        assert d.page.evaluate("window.notReloaded") is True  # live, not a reload


def test_cancel_on_the_phone_delivers_1032_and_shows_the_delivery(
    browser: Browser, receiver: CallbackReceiver
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, SLOW) as d:
        d.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        checkout_id = d.push("254708374149")
        d.tap(checkout_id, "Cancel")
        sent = receiver.wait(checkout_id)[0]
        assert sent["Body"]["stkCallback"]["ResultCode"] == 1032
        assert sent["Body"]["stkCallback"]["ResultDesc"] == "Request cancelled by user"
        expect(d.phone(checkout_id)).to_have_count(0)  # the prompt is gone
        card = d.card(checkout_id)
        expect(card).to_contain_text("Completed")
        expect(card).to_contain_text("Not paid (1032)")
        expect(card.locator(".delivery")).to_contain_text("HTTP 200")
        card.get_by_text("Callback deliveries and timeline").click()
        attempt = card.locator(".attempt")
        expect(attempt).to_contain_text("Delivery 1: HTTP 200")
        expect(attempt).to_contain_text(receiver.url())
        expect(attempt).to_contain_text(" ms")
        expect(attempt.locator("pre.payload")).to_contain_text('"ResultCode":1032')
        expect(attempt).to_contain_text('{"ResultCode":0,"ResultDesc":"Accepted"}')  # answer
        expect(card.locator(".timeline")).to_contain_text("decided on the customer's phone")
        attempt.get_by_role("button", name="Copy JSON").click()
        expect(attempt.get_by_role("button", name="Copied")).to_be_visible()
        assert json.loads(d.page.evaluate("navigator.clipboard.readText()")) == sent


def test_the_default_scenario_selector_changes_the_next_push(
    browser: Browser, receiver: CallbackReceiver
) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST) as d:
        phone = "254712345678"  # matches no scenario: the default decides
        before = d.push(phone)
        assert result_code(receiver, before) == 0
        choices = d.page.get_by_label("Default scenario").locator("option").all_text_contents()
        assert "cancelled: ResultCode 1032" in choices  # STK outcomes only: no C2B, initiator
        assert not [c for c in choices if c.startswith(("c2b-", "initiator-", "b2c-"))]
        d.page.get_by_label("Default scenario").select_option("insufficient-balance")
        eventually(lambda: d.daraja.admin("GET", "/scenarios")["default"] == "insufficient-balance")
        expect(d.page.locator("#default-help")).to_contain_text("too little money")
        after = d.push(phone)
        assert result_code(receiver, after) == 1
        expect(d.card(after)).to_contain_text("insufficient-balance")
        expect(d.card(after)).to_contain_text("Not paid (1)")
        expect(d.card(before).locator(".badge.ok")).to_have_text("✓ Paid")


def test_queue_filters_and_reset(browser: Browser, receiver: CallbackReceiver) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST) as d:
        page = d.page
        page.get_by_label("Scenario", exact=True).select_option("manual")
        page.get_by_role("button", name="Add to queue").click()
        expect(page.locator("#queue")).to_have_text("manual for any phone")
        waiting = d.push("254712345678")
        expect(d.card(waiting)).to_contain_text("Waiting for you")
        expect(d.phone(waiting).locator(".countdown")).to_contain_text("Times out (1037) in")
        expect(page.locator("#queue")).to_contain_text("Empty")  # the push used it up
        done = d.push("254700001032")
        assert result_code(receiver, done) == 1032
        expect(d.card(done)).to_contain_text("Completed")

        page.get_by_label("State", exact=True).select_option("waiting")
        expect(page.locator("li.txn:visible")).to_have_count(1)
        expect(d.card(waiting)).to_be_visible()
        page.get_by_label("State", exact=True).select_option("")
        page.get_by_label("Phone", exact=True).fill("1032")
        expect(page.locator("li.txn:visible")).to_have_count(1)
        expect(d.card(done)).to_be_visible()
        expect(d.phone(waiting)).to_have_count(0)  # filtered out with its push
        expect(page.locator("#count")).to_have_text("Showing 1 of 2 pushes")
        page.get_by_label("Phone", exact=True).fill("")
        expect(page.locator("li.txn:visible")).to_have_count(2)

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Reset: forget all transactions").click()
        expect(page.locator("li.txn")).to_have_count(0)
        expect(page.locator("article.phone")).to_have_count(0)
        assert d.daraja.admin("GET", "/transactions")["transactions"] == []
        live = d.push("254700001032")  # the feed still runs after a reset
        expect(d.card(live)).to_be_visible()


def test_asks_for_the_admin_token_once(browser: Browser, receiver: CallbackReceiver) -> None:
    from playwright.sync_api import expect

    settings = Settings(time_scale=1, seed=7, admin_token="s3cret")
    with dashboard(browser, receiver, settings, live=False, allowed=("status of 401",)) as d:
        dialog = d.page.get_by_role("dialog", name="Admin token")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Token").fill("wrong")
        dialog.get_by_role("button", name="Unlock").click()
        expect(dialog).to_contain_text("That token was refused")
        dialog.get_by_label("Token").fill("s3cret")
        dialog.get_by_role("button", name="Unlock").click()
        expect(dialog).to_be_hidden()
        expect(d.page.locator("#live")).to_have_attribute("data-live", "yes")
        checkout_id = d.push("254708374149")
        expect(d.card(checkout_id)).to_contain_text("Pending")  # the event stream took ?token=
        d.page.reload()
        expect(d.page.locator("#live")).to_have_attribute("data-live", "yes")
        expect(dialog).to_be_hidden()  # asked once: the browser kept it
        d.tap(checkout_id, "Pay")  # decisions carry X-Admin-Token
        assert result_code(receiver, checkout_id) == 0


def test_phone_sized_screen_has_no_horizontal_overflow(
    browser: Browser, receiver: CallbackReceiver
) -> None:
    from playwright.sync_api import expect

    viewport = {"width": 390, "height": 844}
    with dashboard(browser, receiver, SLOW, viewport=viewport, is_mobile=True) as d:
        pending = d.push("254708374149")
        decided = d.push("254700001032", AccountReference="A-LONG-ACCOUNT-REF-1")
        d.tap(decided, "Cancel")
        receiver.wait(decided)
        d.card(decided).get_by_text("Callback deliveries and timeline").click()
        expect(d.card(decided).locator("pre.payload")).to_be_visible()
        expect(d.phone(pending)).to_be_visible()
        width = d.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"page is {width}px wide on a 390px screen"
        for button in d.phone(pending).get_by_role("button").all():
            box = button.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_screenshot_with_pushes_in_every_state(
    browser: Browser, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """Also the README's picture: DARAJA_DASHBOARD_SCREENSHOT=docs/dashboard.png."""
    from playwright.sync_api import expect

    target = Path(os.environ.get("DARAJA_DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png")
    viewport = {"width": 1440, "height": 1000}
    with dashboard(browser, receiver, SLOW, viewport=viewport) as d:
        d.push("254708374149", Amount=10, AccountReference="LX-20260115-0042")
        d.daraja.admin("POST", "/queue", json={"scenario": "manual"})
        d.push("254711223344", Amount=99, AccountReference="CART-9")
        paid = d.push("254712345678", Amount=1500, AccountReference="INV-1042")
        d.tap(paid, "Pay")
        unreachable = d.push(
            "254700002001", CallBackURL=f"http://127.0.0.1:{closed_port()}/mpesa/callback"
        )
        d.tap(unreachable, "Wrong PIN")
        cancelled = d.push("254700001032", Amount=250, AccountReference="ORDER-77")
        d.tap(cancelled, "Cancel")
        d.daraja.admin("POST", "/queue", json={"scenario": "timeout", "phone": "254712345678"})
        assert result_code(receiver, paid) == 0 and result_code(receiver, cancelled) == 1032
        expect(d.card(unreachable).locator(".delivery")).to_contain_text("connection failed")
        expect(d.card(cancelled).locator(".delivery")).to_contain_text("HTTP 200")
        expect(d.page.locator("article.phone")).to_have_count(2)
        expect(d.page.locator("#queue")).to_have_text("timeout for phone 254712345678")
        d.card(cancelled).get_by_text("Callback deliveries and timeline").click()
        expect(d.card(cancelled).locator("pre.payload")).to_be_visible()
        qr = {"MerchantName": "LUXE LOOKS", "RefNo": "LX-20260115-0043", "Amount": 1200,
              "TrxCode": "PB", "CPI": "600100", "Size": 300}
        r = d.daraja.http.post("/mpesa/qrcode/v1/generate", headers=d.daraja.auth(), json=qr)
        assert r.status_code == 200, r.text
        d.daraja.admin("POST", "/c2b/pay", json={"shortcode": "600100", "amount": 800,
                                                  "phone": "254708374149", "bill_ref": "INV-7"})
        d.page.get_by_role("button", name="Statement of 600100").click()
        expect(d.page.locator("#statement-rows tr")).to_have_count(1)
        expect(d.page.locator("li.qr-code")).to_have_count(1)
        d.page.mouse.move(0, 0)
        target.parent.mkdir(parents=True, exist_ok=True)
        d.page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 20_000


def test_fault_panel_fails_the_next_push(browser: Browser, receiver: CallbackReceiver) -> None:
    from playwright.sync_api import expect

    with dashboard(browser, receiver, FAST) as d:
        d.daraja.token()
        d.page.get_by_label("Fault", exact=True).select_option("spike-arrest")
        d.page.get_by_label("Endpoint", exact=True).select_option("push")
        d.page.get_by_label("For the next … requests").fill("1")
        d.page.get_by_role("button", name="Fail next requests").click()
        expect(d.page.locator("#faults")).to_contain_text("spike-arrest on push")
        r = d.daraja.push("254712345679")
        assert r.status_code == 500 and r.json()["errorCode"] == "500.003.02"
        expect(d.page.locator("#faults")).to_contain_text("None: Daraja answers normally")
        assert d.daraja.push("254712345679").status_code == 200
        options = d.page.locator("#default-scenario option").all_text_contents()
        assert not any(o.startswith("fault-") for o in options)
