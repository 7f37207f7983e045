"""The M-Pesa integration guide's MPesaService, as the guide has it, except for one line:
the base URL comes from MPESA_BASE_URL, so the shop can be pointed at the Daraja Emulator."""

import base64
import logging
import os
from datetime import datetime

import httpx

logger = logging.getLogger(__name__)


class MPesaService:
    def __init__(self):
        self.consumer_key = os.getenv('MPESA_CONSUMER_KEY')
        self.consumer_secret = os.getenv('MPESA_CONSUMER_SECRET')
        self.passkey = os.getenv('MPESA_PASSKEY')
        self.shortcode = os.getenv('MPESA_SHORTCODE')
        self.callback_url = os.getenv('MPESA_CALLBACK_URL')
        self.environment = os.getenv('MPESA_ENVIRONMENT', 'sandbox')

        # Set API URLs based on environment
        if self.environment == 'production':
            self.base_url = 'https://api.safaricom.co.ke'
        else:
            self.base_url = os.getenv('MPESA_BASE_URL', 'https://sandbox.safaricom.co.ke')

    async def get_access_token(self):
        """
        Get OAuth access token from Safaricom API
        """
        url = f"{self.base_url}/oauth/v1/generate?grant_type=client_credentials"

        # Create basic auth credentials
        credentials = f"{self.consumer_key}:{self.consumer_secret}"
        encoded_credentials = base64.b64encode(credentials.encode()).decode()

        headers = {
            'Authorization': f'Basic {encoded_credentials}'
        }

        try:
            async with httpx.AsyncClient() as client:
                response = await client.get(url, headers=headers)
                response.raise_for_status()
                data = response.json()
                return data['access_token']
        except Exception as e:
            logger.error(f"Error getting access token: {e}")
            raise

    async def initiate_stk_push(self, phone_number: str, amount: int, account_reference: str,
                                transaction_desc: str):
        """
        Initiate STK Push to customer phone
        """
        # Get access token
        access_token = await self.get_access_token()

        # Generate timestamp
        timestamp = datetime.now().strftime('%Y%m%d%H%M%S')

        # Generate password
        password_str = f"{self.shortcode}{self.passkey}{timestamp}"
        password = base64.b64encode(password_str.encode()).decode()

        # Prepare request
        url = f"{self.base_url}/mpesa/stkpush/v1/processrequest"

        headers = {
            'Authorization': f'Bearer {access_token}',
            'Content-Type': 'application/json'
        }

        payload = {
            'BusinessShortCode': self.shortcode,
            'Password': password,
            'Timestamp': timestamp,
            'TransactionType': 'CustomerPayBillOnline',
            'Amount': amount,
            'PartyA': phone_number,
            'PartyB': self.shortcode,
            'PhoneNumber': phone_number,
            'CallBackURL': self.callback_url,
            'AccountReference': account_reference,
            'TransactionDesc': transaction_desc
        }

        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                response = await client.post(url, json=payload, headers=headers)
                response.raise_for_status()
                return response.json()
        except Exception as e:
            logger.error(f"Error initiating STK push: {e}")
            raise
