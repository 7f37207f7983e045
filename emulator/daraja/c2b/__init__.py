"""C2B: register URL, simulate, and the validation and confirmation POSTs to the merchant."""
