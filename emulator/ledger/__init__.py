"""The ledger: businesses and their accounts, customers and their wallets, and the entries that
move money between them. Pure and exact (integer cents); `now` is always passed in."""
