"""Account Balance: a shortcode's accounts as Daraja's pipe string (ledger reference 7)."""
