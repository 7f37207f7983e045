"""Luxe Looks' backend cut down to its M-Pesa checkout, built as the integration guide says.

    POST /api/orders              place an order: {"customer": {...}, "items": [...], "total": 1500}
    POST /api/mpesa/initiate      STK push for it: {"phone", "amount", "order_number"}
    POST /api/mpesa/callback      Safaricom's result; settles the order, once
    GET  /api/orders/{number}     the order, its payment status and what happened
    POST /api/payments/c2b/validation, /confirmation
                                  paybill payments (order number as the account number),
                                  registered with Safaricom at start; see paybill.py
    POST /api/orders/{number}/refund, POST /api/reconcile, GET /api/reconciliation
                                  refunds (B2C) and the nightly reconciliation (Transaction
                                  Status, Account Balance); see payouts.py

A push whose callback has not come after MPESA_QUERY_AFTER seconds is settled by STK Query.
Configured by the guide's MPESA_* variables, plus MPESA_BASE_URL to reach the emulator; see
README.md beside this file for the command.
"""

import asyncio
import contextlib
import logging
import os

import httpx
import paybill
import payouts
from mpesa_payouts import MPesaServiceWithPayouts
from orders import Orders
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logger = logging.getLogger("shop")


def normalise_phone(phone: str) -> str:
    """As the guide does it: +2547... and 07... become 2547..."""
    phone = str(phone).strip().replace(" ", "")
    if phone.startswith('+'):
        phone = phone[1:]
    if phone.startswith('0'):
        phone = '254' + phone[1:]
    return phone


# Daraja answers worth retrying: its rate and quota policies, its internal error, and the
# gateway in front of it (HTML 403 edge page, 502/503/504). Credentials, validation and the
# subscriber lock (500.001.1001, 400.*) would fail the same way again.
RETRYABLE_CODES = {"500.003.02", "500.003.03", "500.003.1001"}


def mpesa_answer(response: httpx.Response) -> dict:
    """Daraja's JSON answer, or {} when the body is empty or not JSON (an edge HTML page)."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def retryable(error: Exception) -> bool:
    if isinstance(error, httpx.TransportError):  # refused, reset, timed out
        return True
    if isinstance(error, httpx.HTTPStatusError):
        if error.response.status_code in (403, 502, 503, 504):
            return True
        return mpesa_answer(error.response).get("errorCode") in RETRYABLE_CODES
    return False


async def with_retries(call, attempts: int, base_delay: float):
    """The guide's retry logic: exponential backoff (base, 2x base, ...) on retryable errors."""
    for attempt in range(attempts):
        try:
            return await call()
        except Exception as e:
            if attempt == attempts - 1 or not retryable(e):
                raise
            logger.warning(f"M-Pesa call failed ({e}); retry {attempt + 1} of {attempts - 1}")
            await asyncio.sleep(base_delay * 2 ** attempt)


def create_app() -> Starlette:
    orders = Orders(os.getenv("SHOP_DB", "shop.db"))
    mpesa = MPesaServiceWithPayouts()
    payout_book = payouts.Payouts(os.getenv("SHOP_DB", "shop.db"))
    nightly_every = float(os.getenv("MPESA_NIGHTLY_INTERVAL", "86400"))  # reconciliation
    query_after = float(os.getenv("MPESA_QUERY_AFTER", "60"))  # seconds without a callback
    reconcile_every = float(os.getenv("MPESA_RECONCILE_INTERVAL", "15"))
    max_retries = int(os.getenv("MPESA_MAX_RETRIES", "3"))  # attempts in all, as in the guide
    retry_delay = float(os.getenv("MPESA_RETRY_DELAY", "1"))  # seconds before the first retry

    async def place_order(request: Request) -> JSONResponse:
        body = await request.json()
        items = body.get("items", [])
        total = body.get("total")
        if total is None:
            total = sum(int(i["price"]) * int(i.get("quantity", 1)) for i in items)
        if int(total) <= 0:
            return JSONResponse({"detail": "the total must be at least KES 1"}, status_code=400)
        number = orders.create(body.get("customer", {}), items, int(total))
        return JSONResponse(orders.get(number), status_code=201)

    async def get_order(request: Request) -> JSONResponse:
        order = orders.get(request.path_params["number"])
        if order is None:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        return JSONResponse(order)

    async def initiate_mpesa_payment(request: Request) -> JSONResponse:
        body = await request.json()
        order = orders.get(str(body.get("order_number", "")))
        if order is None:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        if order["status"] in ("awaiting_payment", "paid"):
            return JSONResponse({"detail": f"order is {order['status']}"}, status_code=409)
        amount = int(body.get("amount", order["total"]))
        if amount != order["total"]:
            return JSONResponse({"detail": "amount differs from the order total"}, status_code=400)
        try:
            response = await with_retries(
                lambda: mpesa.initiate_stk_push(
                    phone_number=normalise_phone(body["phone"]),
                    amount=amount,
                    account_reference=order["number"],
                    transaction_desc=f"Payment for order {order['number']}",
                ),
                max_retries, retry_delay,
            )
        except httpx.HTTPStatusError as e:
            busy = retryable(e)
            detail = ("M-Pesa is not available right now; please try again in a few minutes"
                      if busy else "M-Pesa refused the payment")
            return JSONResponse({"detail": detail, "mpesa": mpesa_answer(e.response)},
                                status_code=503 if busy else 502)
        except httpx.TransportError as e:
            logger.error(f"M-Pesa unreachable: {e}")
            return JSONResponse({"detail": "M-Pesa is not available right now; please try "
                                 "again in a few minutes"}, status_code=503)
        except Exception as e:
            logger.error(f"Error initiating payment: {e}")
            return JSONResponse({"detail": str(e)}, status_code=500)
        if response.get("ResponseCode") == "0":
            orders.push_sent(order["number"], response["CheckoutRequestID"],
                             response["MerchantRequestID"])
        return JSONResponse({**response, "order_number": order["number"]})

    async def mpesa_callback(request: Request) -> JSONResponse:
        try:
            callback_data = await request.json()
            body = callback_data.get('Body', {}).get('stkCallback', {})
            result_code = body.get('ResultCode')
            details = {i['Name']: i.get('Value')
                       for i in body.get('CallbackMetadata', {}).get('Item', [])}
            number = orders.apply_result(
                body.get('CheckoutRequestID', ''), int(result_code), body.get('ResultDesc', ''),
                details.get('MpesaReceiptNumber'), "callback",
            )
            logger.info(f"M-Pesa callback {result_code} for order {number or '(none changed)'}")
            return JSONResponse({"ResultCode": 0, "ResultDesc": "Success"})
        except Exception as e:
            logger.error(f"Error processing callback: {e}")
            return JSONResponse({"ResultCode": 1, "ResultDesc": "Failed"})

    async def reconcile() -> None:
        """Settle, by STK Query, pushes whose callback is overdue (lost, or our server was down)."""
        for checkout_id in orders.awaiting(query_after):
            try:
                answer = await mpesa.query_stk_push(checkout_id)
            except Exception as e:
                logger.warning(f"STK query for {checkout_id} failed: {e}")
                continue
            if answer is not None:
                orders.apply_result(checkout_id, int(answer["ResultCode"]),
                                    answer.get("ResultDesc", ""), None, "query")

    async def reconcile_forever() -> None:
        while True:
            await asyncio.sleep(reconcile_every)
            await reconcile()

    async def register_c2b() -> None:
        """Tell Safaricom where paybill payments are validated and confirmed; a refusal (the
        STK-only 174379 cannot register) leaves STK payments working, and is logged."""
        try:
            answer = await with_retries(mpesa.register_c2b_urls, max_retries, retry_delay)
            logger.info(f"C2B URLs registered for {mpesa.shortcode}: {answer}")
            c2b_state.update(registered=True, detail=str(answer))
        except Exception as e:
            logger.warning(f"C2B URLs not registered for {mpesa.shortcode} (paybill payments "
                           f"will not reach this shop): {e}")
            c2b_state.update(registered=False, detail=str(e))

    async def nightly() -> None:
        """Reconcile refunds and receipts with M-Pesa once a night (MPESA_NIGHTLY_INTERVAL)."""
        while True:
            await asyncio.sleep(nightly_every)
            sent = await payouts.reconcile_now(orders, payout_book, mpesa)
            logger.info(f"nightly reconciliation: {sent} queries sent")

    c2b_state: dict = {"registered": None, "detail": "registering"}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "c2b": c2b_state})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        tasks = [asyncio.create_task(reconcile_forever()), asyncio.create_task(register_c2b()),
                 asyncio.create_task(nightly())]
        yield
        for task in tasks:
            task.cancel()
        orders.close()
        payout_book.close()

    return Starlette(
        routes=[
            Route("/api/orders", place_order, methods=["POST"]),
            Route("/api/orders/{number}", get_order, methods=["GET"]),
            Route("/api/mpesa/initiate", initiate_mpesa_payment, methods=["POST"]),
            Route("/api/mpesa/callback", mpesa_callback, methods=["POST"]),
            Route("/api/health", health, methods=["GET"]),
            *paybill.routes(orders),
            *payouts.routes(orders, payout_book, mpesa),
        ],
        lifespan=lifespan,
    )


logging.basicConfig(level=os.getenv("LOG_LEVEL", "INFO"),
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
