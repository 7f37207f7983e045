"""Dynamic QR: POST /mpesa/qrcode/v1/generate, a synchronous QR image of a payment request."""

# its endpoints (all POST), known without importing the family: the app routes to them
# from start-up and builds the family on the first request (wiring.py)
PATH = "/mpesa/qrcode/v1/generate"
PATHS = (PATH,)
