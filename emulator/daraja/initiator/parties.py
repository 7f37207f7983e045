"""How results name parties and accounts, read from the ledger: `254708374149 - JOHN DOE`,
`600992 - Safaricom Daraja 992`, the `Account|KES|...` strings and B2B's map format."""

from __future__ import annotations

import hashlib

from emulator.kernel.clock import eat
from emulator.ledger.book import Ledger
from emulator.ledger.models import Account, Business, Entry
from emulator.ledger.money import Cents, shillings


def person(ledger: Ledger, phone: str) -> str:
    """The customer as results show them: full MSISDN and full name, never masked."""
    c = ledger.customer(phone)
    name = " ".join(part for part in (c.first_name, c.middle_name, c.last_name) if part)
    return f"{phone} - {name}"


def organisation(ledger: Ledger, shortcode: str) -> str:
    business = ledger.business(shortcode)
    return f"{shortcode} - {business.name if business else shortcode}"


def pipe(account: Account, amount: Cents) -> str:
    """`Working Account|KES|346568.83|346568.83|0.00|0.00`: total, available, reserved,
    uncleared (ledger reference 0.4; the emulator reserves nothing)."""
    return f"{account.value}|KES|{shillings(amount)}|{shillings(amount)}|0.00|0.00"


def balances(business: Business, accounts: tuple[Account, ...]) -> str:
    return "&".join(pipe(a, business.balances[a]) for a in accounts)


def amount_map(amount: Cents) -> str:
    """`{Amount={CurrencyCode=KES, MinimumAmount=618683, BasicAmount=6186.83}}`."""
    basic = shillings(amount)
    return f"{{Amount={{CurrencyCode=KES, MinimumAmount={amount}, BasicAmount={basic}}}}}"


def conversation_ids(entry: Entry) -> tuple[str, str]:
    """The original's OriginatorConversationID and ConversationID for Transaction Status: its
    own when an initiator request or a C2B simulate made it, else derived from the receipt
    (stable across queries)."""
    digest = hashlib.sha256(entry.receipt.encode()).hexdigest()
    originator = entry.originator_id or (
        f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}-{digest[12:24]}{int(digest[24:30], 16)}")
    conversation = entry.conversation_id or (
        f"AG_{eat(entry.at):%Y%m%d}_0100{digest[30:46]}")
    return originator, conversation
