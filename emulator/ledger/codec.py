"""Ledger records as JSON rows for the --state file, and back. Cents stay integers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.ledger.models import Account, Business, Customer, Entry, Kind

Row = dict[str, Any]


class BusinessCodec:
    kind = "ledger.business"

    def key(self, b: Business) -> str:
        return b.shortcode

    def to_row(self, b: Business) -> Row:
        return {"shortcode": b.shortcode, "kind": b.kind.value, "name": b.name,
                "balances": {a.name: v for a, v in b.balances.items()},
                "initiators": sorted(b.initiators)}

    def from_row(self, row: Row) -> Business:
        balances = dict.fromkeys(Account, 0)
        balances.update({Account[name]: v for name, v in row["balances"].items()})
        return Business(row["shortcode"], Kind(row["kind"]), row["name"], balances,
                        frozenset(row["initiators"]))


class CustomerCodec:
    kind = "ledger.customer"

    def key(self, c: Customer) -> str:
        return c.phone

    def to_row(self, c: Customer) -> Row:
        return {"phone": c.phone, "balance": c.balance, "first_name": c.first_name,
                "middle_name": c.middle_name, "last_name": c.last_name}

    def from_row(self, row: Row) -> Customer:
        return Customer(**row)


class EntryCodec:
    kind = "ledger.entry"

    def key(self, e: Entry) -> str:
        return e.receipt

    def to_row(self, e: Entry) -> Row:
        return {"receipt": e.receipt, "kind": e.kind, "at": e.at.isoformat(), "phone": e.phone,
                "shortcode": e.shortcode, "account": e.account.name, "amount": e.amount,
                "charges": e.charges, "customer_balance": e.customer_balance,
                "business_balance": e.business_balance, "reference": e.reference,
                "command": e.command, "payee": e.payee,
                "payee_account": e.payee_account.name if e.payee_account else None,
                "payee_balance": e.payee_balance, "original": e.original,
                "originator_id": e.originator_id, "conversation_id": e.conversation_id}

    def from_row(self, row: Row) -> Entry:
        payee_account = row.get("payee_account")
        return Entry(**{**row, "at": datetime.fromisoformat(row["at"]),
                        "account": Account[row["account"]],
                        "payee_account": Account[payee_account] if payee_account else None})
