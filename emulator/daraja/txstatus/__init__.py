"""Transaction Status: what became of a receipt, read from the ledger (ledger reference 6)."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
PATH = "/mpesa/transactionstatus/v1/query"
PATHS = (PATH,)
