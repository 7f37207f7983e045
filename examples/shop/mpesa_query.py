"""STK Query, the step the integration guide leaves out: ask M-Pesa how a push ended when its
callback does not come. Written in the guide's own style, on top of its MPesaService."""

import base64
import logging
from datetime import datetime

import httpx
from mpesa_service import MPesaService

logger = logging.getLogger(__name__)

# Daraja's answers while the customer has not decided yet: HTTP 200 with ResultCode 4999, or
# (older behaviour) HTTP 500 with errorCode 500.001.1001 "The transaction is being processed".
STILL_PENDING_CODES = {"4999"}
STILL_PENDING_ERRORS = {"500.001.1001"}


class MPesaServiceWithQuery(MPesaService):
    async def query_stk_push(self, checkout_request_id: str):
        """
        Ask how an STK push ended.

        Returns:
            dict: the query answer (ResultCode as a string, ResultDesc), or None while the
            customer has not answered yet
        """
        access_token = await self.get_access_token()
        timestamp = datetime.now().strftime('%Y%m%d%H%M%S')
        password_str = f"{self.shortcode}{self.passkey}{timestamp}"
        password = base64.b64encode(password_str.encode()).decode()

        url = f"{self.base_url}/mpesa/stkpushquery/v1/query"
        headers = {
            'Authorization': f'Bearer {access_token}',
            'Content-Type': 'application/json'
        }
        payload = {
            'BusinessShortCode': self.shortcode,
            'Password': password,
            'Timestamp': timestamp,
            'CheckoutRequestID': checkout_request_id
        }

        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(url, json=payload, headers=headers)
        data = response.json() if response.content else {}
        if data.get('errorCode') in STILL_PENDING_ERRORS:
            return None
        response.raise_for_status()
        if str(data.get('ResultCode')) in STILL_PENDING_CODES:
            return None
        return data
