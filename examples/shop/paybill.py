"""Paybill payments (C2B): the customer pays the shop's shortcode from the phone's menu with
the order number as the account number. Safaricom asks first (validation: reject an unknown
order with C2B00012, a wrong amount with C2B00013), then tells (confirmation).

The trap: an STK push to a paybill with registered URLs also produces a C2B confirmation,
carrying the same receipt as the STK callback. Both paths settle orders through
`Orders.apply_receipt`, which applies each receipt once, whichever comes first.
"""

import logging
from decimal import Decimal, InvalidOperation

from orders import Orders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logger = logging.getLogger("shop.paybill")

ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
REASONS = {"C2B00012": "Invalid Account Number", "C2B00013": "Invalid Amount",
           "C2B00016": "Other Error"}


def _shillings(text) -> int | None:
    try:
        amount = Decimal(str(text))
    except InvalidOperation:
        return None
    return int(amount) if amount == amount.to_integral_value() else None


def routes(orders: Orders) -> list[Route]:
    async def validation(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            code = orders.refusal(str(body.get("BillRefNumber", "")).strip(),
                                  _shillings(body.get("TransAmount")))
        except Exception as e:  # answer something: Safaricom's ResponseType decides otherwise
            logger.error(f"Error validating a paybill payment: {e}")
            code = "C2B00016"
        if code is None:
            return JSONResponse(ACCEPT)
        logger.info(f"paybill payment refused: {code} {REASONS[code]}")
        return JSONResponse({"ResultCode": code, "ResultDesc": "Rejected"})

    async def confirmation(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            outcome = orders.apply_receipt(
                str(body["TransID"]), str(body.get("BillRefNumber", "")).strip(),
                _shillings(body.get("TransAmount")) or 0, "c2b")
            logger.info(f"C2B confirmation {body['TransID']}: {outcome}")
        except Exception as e:
            logger.error(f"Error processing a C2B confirmation: {e}")
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Success"})  # "always 0"

    return [
        Route("/api/payments/c2b/validation", validation, methods=["POST"]),
        Route("/api/payments/c2b/confirmation", confirmation, methods=["POST"]),
    ]
