"""B2C refunds, Transaction Status and Account Balance, in the guide's own style, on top of its
MPesaService. Each call is acknowledged at once; Safaricom POSTs the result to ResultURL later
(or never: then Transaction Status tells what happened).

The initiator's SecurityCredential is what the Daraja portal's "Generate Credentials" gives
(the password encrypted with Safaricom's certificate); set it as MPESA_SECURITY_CREDENTIAL.
"""

import logging
import os
from urllib.parse import urlsplit

import httpx
from mpesa_c2b import MPesaServiceWithC2B

logger = logging.getLogger(__name__)


class MPesaServiceWithPayouts(MPesaServiceWithC2B):
    def __init__(self):
        super().__init__()
        self.initiator_name = os.getenv('MPESA_INITIATOR_NAME', 'testapi')
        self.security_credential = os.getenv('MPESA_SECURITY_CREDENTIAL', '')
        # the shortcode refunds are paid from and whose balance is reconciled
        self.b2c_shortcode = os.getenv('MPESA_B2C_SHORTCODE', self.shortcode)
        parts = urlsplit(self.callback_url or '')
        origin = os.getenv('SHOP_PUBLIC_URL', f"{parts.scheme}://{parts.netloc}")
        self.result_base = f"{origin}/api/payouts"  # no "mpesa" in URLs Safaricom checks

    def _urls(self, kind: str) -> dict:
        return {'ResultURL': f"{self.result_base}/result/{kind}",
                'QueueTimeOutURL': f"{self.result_base}/timeout/{kind}"}

    async def _post(self, path: str, payload: dict) -> dict:
        access_token = await self.get_access_token()
        headers = {
            'Authorization': f'Bearer {access_token}',
            'Content-Type': 'application/json'
        }
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(f"{self.base_url}{path}", json=payload,
                                         headers=headers)
        response.raise_for_status()
        return response.json()

    async def b2c_payment(self, phone_number: str, amount: int, originator_id: str,
                          remarks: str):
        """
        Pay a customer (a refund) from the B2C shortcode, v3: our OriginatorConversationID is
        echoed, so a retry with the same id cannot pay twice (Daraja refuses the repeat).
        """
        payload = {
            'OriginatorConversationID': originator_id,
            'InitiatorName': self.initiator_name,
            'SecurityCredential': self.security_credential,
            'CommandID': 'BusinessPayment',
            'Amount': amount,
            'PartyA': self.b2c_shortcode,
            'PartyB': phone_number,
            'Remarks': remarks,
            'Occassion': 'Refund',
            **self._urls('b2c'),
        }
        return await self._post('/mpesa/b2c/v3/paymentrequest', payload)

    async def transaction_status(self, transaction_id: str = '',
                                 original_conversation_id: str = ''):
        """Ask how a payment ended: by its receipt, or by the OriginatorConversationID of the
        request that made it (a refund whose result never came has no receipt yet)."""
        payload = {
            'Initiator': self.initiator_name,
            'SecurityCredential': self.security_credential,
            'CommandID': 'TransactionStatusQuery',
            'TransactionID': transaction_id,
            'OriginalConversationID': original_conversation_id,
            'PartyA': self.b2c_shortcode,
            'IdentifierType': '4',
            'Remarks': 'Reconciliation',
            'Occasion': 'Reconciliation',
            **self._urls('status'),
        }
        return await self._post('/mpesa/transactionstatus/v1/query', payload)

    async def account_balance(self):
        payload = {
            'Initiator': self.initiator_name,
            'SecurityCredential': self.security_credential,
            'CommandID': 'AccountBalance',
            'PartyA': self.b2c_shortcode,
            'IdentifierType': '4',
            'Remarks': 'Reconciliation',
            **self._urls('balance'),
        }
        return await self._post('/mpesa/accountbalance/v1/query', payload)


def result_parameters(result: dict) -> dict:
    """ResultParameters as {Key: Value}: one item comes as an object, several as a list, and an
    empty value as a Key alone (Daraja converts the results from XML)."""
    items = (result.get('ResultParameters') or {}).get('ResultParameter') or []
    items = items if isinstance(items, list) else [items]
    return {i.get('Key'): i.get('Value') for i in items if isinstance(i, dict)}


def balances(text: str) -> dict:
    """'Working Account|KES|100.00|100.00|0.00|0.00&Utility Account|...' as {account: KES
    available}."""
    found = {}
    for part in str(text or '').split('&'):
        fields = part.split('|')
        if len(fields) >= 4:
            found[fields[0]] = fields[3]
    return found
