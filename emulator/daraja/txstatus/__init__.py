"""Transaction Status: what became of a receipt, read from the ledger (ledger reference 6)."""
