"""B2C: a business pays a customer from its Utility Account (ledger reference 5)."""
