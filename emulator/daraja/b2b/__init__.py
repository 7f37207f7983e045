"""B2B: BusinessPayBill and BusinessBuyGoods, Working Account to Utility or Merchant
(ledger reference 9)."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
PATH = "/mpesa/b2b/v1/paymentrequest"
PATHS = (PATH,)
