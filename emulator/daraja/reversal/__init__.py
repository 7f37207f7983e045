"""Reversal: a customer payment into the shortcode goes back (ledger reference 8)."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
PATH = "/mpesa/reversal/v1/request"
PATHS = (PATH,)
