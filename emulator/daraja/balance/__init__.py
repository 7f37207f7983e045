"""Account Balance: a shortcode's accounts as Daraja's pipe string (ledger reference 7)."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
PATH = "/mpesa/accountbalance/v1/query"
PATHS = (PATH,)
