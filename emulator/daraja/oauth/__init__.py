"""OAuth: client-credential tokens for every other API."""
