"""Daraja and its gateway failing on demand: error answers, HTML edge pages, slow and dropped
connections, and a per-consumer rate limit."""
