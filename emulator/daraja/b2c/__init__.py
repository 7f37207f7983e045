"""B2C: a business pays a customer from its Utility Account (ledger reference 5)."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
V3_PATH = "/mpesa/b2c/v3/paymentrequest"
V1_PATH = "/mpesa/b2c/v1/paymentrequest"
PATHS = (V3_PATH, V1_PATH)
