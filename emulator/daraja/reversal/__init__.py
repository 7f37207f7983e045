"""Reversal: a customer payment into the shortcode goes back (ledger reference 8)."""
