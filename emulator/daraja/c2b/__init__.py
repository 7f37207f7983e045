"""C2B: register URL, simulate, and the validation and confirmation POSTs to the merchant."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
REGISTER_PATHS = {"v1": "/mpesa/c2b/v1/registerurl", "v2": "/mpesa/c2b/v2/registerurl"}
SIMULATE_PATHS = ("/mpesa/c2b/v1/simulate", "/mpesa/c2b/v2/simulate")
PATHS = (*REGISTER_PATHS.values(), *SIMULATE_PATHS)
