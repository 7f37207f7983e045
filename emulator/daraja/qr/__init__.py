"""Dynamic QR: POST /mpesa/qrcode/v1/generate, a synchronous QR image of a payment request."""
