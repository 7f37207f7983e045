"""What the initiator APIs (B2C, B2B, Reversal, Transaction Status, Account Balance) share: the
SecurityCredential check, the request journal, the ack and the `{"Result": ...}` envelope, and
the lifecycle that posts results. Not a family: families import it, it imports none of them."""
