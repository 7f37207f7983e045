"""The ledger's book: who holds what, and every payment that moved money.

Every payment is one debit and one credit of the same cents, so the sum of all balances never
changes through payments (tests/test_ledger.py checks it with hypothesis). Parties are opened
lazily: any sandbox shortcode 600000-600999 is a funded paybill, any valid phone a customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from emulator.kernel.store import Records
from emulator.ledger.models import (
    Account,
    Business,
    Customer,
    Entry,
    Kind,
    Opening,
    collection_account,
)
from emulator.ledger.money import Cents, shillings
from emulator.ledger.names import Names

SANDBOX_CODES = range(600_000, 601_000)  # the shared sandbox's organisation shortcodes
SANDBOX_INITIATOR = "testapi"
BUSINESS_NAME = "DARAJA EMULATOR"


class LedgerError(Exception):
    """A payment or change the ledger refuses; the message says why."""


class InsufficientFunds(LedgerError):
    """The payer's balance is smaller than the amount."""


class UnknownBusiness(LedgerError):
    """No business has this shortcode (register it with --shortcode or --till)."""


class UnknownReceipt(LedgerError):
    """No entry has this receipt, or it is not one that can be reversed into this shortcode."""


class AlreadyReversed(LedgerError):
    """The receipt was reversed before."""


def is_sandbox(shortcode: str) -> bool:
    return shortcode.isdigit() and int(shortcode) in SANDBOX_CODES


class Ledger:
    def __init__(
        self,
        businesses: Records[Business],
        customers: Records[Customer],
        entries: Records[Entry],
        opening: Opening,
        registered: Mapping[str, Kind],
        names: Names | None = None,
    ) -> None:
        self.businesses = businesses  # maps shortcode -> business, opened on first use
        self.customers = customers  # maps MSISDN -> customer, opened on first use
        self.entries = entries  # maps receipt -> entry, the newest `keep` of them
        self.opening = opening
        self._registered = dict(registered)  # maps shortcode -> kind, from the settings
        self.names = names or Names()

    # --- parties -------------------------------------------------------------------------

    def business(self, shortcode: str) -> Business | None:
        """The business, opened at its opening balances on first use; None when unknown."""
        found = self.peek_business(shortcode)
        if found is not None and self.businesses.get(shortcode) is None:
            self.businesses.add(found)
        return found

    def peek_business(self, shortcode: str) -> Business | None:
        """The business as it stands, or as it would open; opens nothing (a view's read)."""
        found = self.businesses.get(shortcode)
        if found is not None:
            return found
        kind = self._kind(shortcode)
        return None if kind is None else self._new_business(shortcode, kind)

    def till(self, shortcode: str) -> Business:
        """A Buy Goods till: a known business, else a new till opened at its opening balances."""
        return self.business(shortcode) or self._open(shortcode, Kind.TILL)

    def _kind(self, shortcode: str) -> Kind | None:
        return self._registered.get(shortcode) or (Kind.PAYBILL if is_sandbox(shortcode) else None)

    def _open(self, shortcode: str, kind: Kind) -> Business:
        business = self._new_business(shortcode, kind)
        self.businesses.add(business)
        return business

    def _new_business(self, shortcode: str, kind: Kind) -> Business:
        balances = dict.fromkeys(Account, 0)
        balances[Account.WORKING] = self.opening.business
        balances[collection_account(kind)] = self.opening.business
        sandbox = is_sandbox(shortcode)
        name = f"Safaricom Daraja {shortcode[-3:]}" if sandbox else BUSINESS_NAME
        return Business(shortcode, kind, name, balances, frozenset({SANDBOX_INITIATOR}))

    def customer(self, phone: str) -> Customer:
        """The customer with this phone, opened at the opening balance on first use."""
        found = self.customers.get(phone)
        if found is not None:
            return found
        customer = self._new_customer(phone)
        self.customers.add(customer)
        return customer

    def peek_customer(self, phone: str) -> Customer:
        """The customer as they stand, or as they would open; opens nothing (a view's read)."""
        return self.customers.get(phone) or self._new_customer(phone)

    def _new_customer(self, phone: str) -> Customer:
        first, middle, last = self.names.name(phone)
        balance = self.opening.per_phone.get(phone, self.opening.customer)
        return Customer(phone, balance, first, middle, last)

    # --- money ---------------------------------------------------------------------------

    def can_pay(self, phone: str, amount: Cents) -> bool:
        return self.customer(phone).balance >= amount

    def pay(
        self,
        *,
        phone: str,
        shortcode: str,
        amount: Cents,
        kind: str,
        receipt: str,
        at: datetime,
        reference: str = "",
        till: bool = False,
        originator_id: str = "",
    ) -> Entry:
        """Move `amount` from the customer's wallet to the business's collection account."""
        if amount <= 0:
            raise LedgerError(f"amount must be positive, got {shillings(amount)}")
        business = self.till(shortcode) if till else self.business(shortcode)
        if business is None:
            raise UnknownBusiness(f"no business with shortcode {shortcode}")
        customer = self.customer(phone)
        if customer.balance < amount:
            raise InsufficientFunds(
                f"{phone} holds KES {shillings(customer.balance)}, short of {shillings(amount)}")
        account = collection_account(business.kind)
        customer.balance -= amount
        business.balances[account] += amount
        entry = Entry(receipt, kind, at, phone, shortcode, account, amount, 0,
                      customer.balance, business.balances[account], reference,
                      originator_id=originator_id)
        self.customers.save(customer)
        self.businesses.save(business)
        self.entries.add(entry)
        self.entries.finish(entry)
        return entry

    def disburse(
        self, *, shortcode: str, phone: str, amount: Cents, command: str, receipt: str,
        at: datetime, originator_id: str = "", conversation_id: str = "",
    ) -> Entry:
        """B2C: the business's Utility Account pays the customer's wallet exactly `amount`
        (no tariff: Charges Paid is untouched, see README "Money")."""
        business = self._known(shortcode)
        customer = self.customer(phone)
        self._debit(business, Account.UTILITY, amount)
        customer.balance += amount
        entry = Entry(receipt, "b2c", at, phone, shortcode, Account.UTILITY, amount, 0,
                      customer.balance, business.balances[Account.UTILITY], command=command,
                      originator_id=originator_id, conversation_id=conversation_id)
        return self._book(entry, business, customer)

    def transfer(
        self, *, payer: str, payee: str, amount: Cents, command: str, receipt: str,
        at: datetime, reference: str = "", till: bool = False, requester: str = "",
        originator_id: str = "", conversation_id: str = "",
    ) -> Entry:
        """B2B: the payer's Working Account pays the payee's Utility (paybill) or Merchant
        (till) Account."""
        source = self._known(payer)
        target = self.till(payee) if till else self._known(payee)
        account = collection_account(target.kind)
        self._debit(source, Account.WORKING, amount)
        target.balances[account] += amount
        entry = Entry(receipt, "b2b", at, requester, payer, Account.WORKING, amount, 0, 0,
                      source.balances[Account.WORKING], reference, command, payee, account,
                      target.balances[account], originator_id=originator_id,
                      conversation_id=conversation_id)
        self.businesses.save(target)
        return self._book(entry, source, None)

    def reverse(
        self, *, original: str, shortcode: str, receipt: str, at: datetime,
        originator_id: str = "", conversation_id: str = "",
    ) -> Entry:
        """Give a customer payment (STK or C2B) into `shortcode` back: the account it went
        into pays the customer the same amount."""
        paid = self.entries.get(original)
        if paid is None or paid.pays_customer or paid.kind == "b2b" or paid.shortcode != shortcode:
            raise UnknownReceipt(f"{original} is no customer payment into {shortcode}")
        if self.reversal_of(original) is not None:
            raise AlreadyReversed(f"{original} was reversed by {self.reversal_of(original)}")
        business = self._known(shortcode)
        customer = self.customer(paid.phone)
        self._debit(business, paid.account, paid.amount)
        customer.balance += paid.amount
        entry = Entry(receipt, "reversal", at, paid.phone, shortcode, paid.account, paid.amount,
                      0, customer.balance, business.balances[paid.account], paid.reference,
                      original=original, originator_id=originator_id,
                      conversation_id=conversation_id)
        return self._book(entry, business, customer)

    def reversal_of(self, receipt: str) -> str | None:
        """The receipt of the reversal of `receipt`, if it was reversed."""
        found = self.reversal(receipt)
        return None if found is None else found.receipt

    def reversal(self, receipt: str) -> Entry | None:
        """The entry that reversed `receipt`, if one did (and is still kept)."""
        return next((e for e in self.entries
                     if e.kind == "reversal" and e.original == receipt), None)

    def reversals(self) -> dict[str, Entry]:
        """Maps a reversed receipt -> the entry that reversed it, for every reversal kept."""
        return {e.original: e for e in self.entries if e.kind == "reversal"}

    def by_originator(self, originator_id: str) -> Entry | None:
        """The entry a request with this OriginatorConversationID made, if any."""
        return next((e for e in self.entries if originator_id and
                     e.originator_id == originator_id), None)

    def _known(self, shortcode: str) -> Business:
        business = self.business(shortcode)
        if business is None:
            raise UnknownBusiness(f"no business with shortcode {shortcode}")
        return business

    @staticmethod
    def _debit(business: Business, account: Account, amount: Cents) -> None:
        if amount <= 0:
            raise LedgerError(f"amount must be positive, got {shillings(amount)}")
        if business.balances[account] < amount:
            raise InsufficientFunds(
                f"{business.shortcode}'s {account.value} holds KES "
                f"{shillings(business.balances[account])}, short of {shillings(amount)}")
        business.balances[account] -= amount

    def _book(self, entry: Entry, business: Business, customer: Customer | None) -> Entry:
        if customer is not None:
            self.customers.save(customer)
        self.businesses.save(business)
        self.entries.add(entry)
        self.entries.finish(entry)
        return entry

    def set_balance(self, shortcode: str, account: Account, amount: Cents) -> Business:
        """Set one account of a business (QA: an empty Utility Account, say)."""
        business = self.business(shortcode)
        if business is None:
            raise UnknownBusiness(f"no business with shortcode {shortcode}")
        business.balances[account] = amount
        self.businesses.save(business)
        return business

    def set_customer_balance(self, phone: str, amount: Cents) -> Customer:
        if amount < 0:
            raise LedgerError("a wallet cannot hold less than 0.00")
        customer = self.customer(phone)
        customer.balance = amount
        self.customers.save(customer)
        return customer

    def known(self) -> list[Business]:
        """Every registered business (as it would open, if nothing has touched it yet) and
        every one opened since, by shortcode; opens nothing."""
        unopened = [self._new_business(code, kind) for code, kind in self._registered.items()
                    if self.businesses.get(code) is None]
        return sorted([*self.businesses, *unopened], key=lambda b: b.shortcode)

    def total(self) -> Cents:
        """Every balance the book holds, summed, the registered businesses at their opening
        balances until first used: payments never change it, and looking never does (a
        party that money first reaches, or whose balance is set, adds its opening balance)."""
        wallets = sum(c.balance for c in self.customers)
        accounts = sum(sum(b.balances.values()) for b in self.known())
        return wallets + accounts

    def history(self, phone: str | None = None, shortcode: str | None = None) -> list[Entry]:
        """Entries, newest first, optionally for one customer or one business."""
        return [e for e in reversed(list(self.entries))
                if (phone is None or e.phone == phone)
                and (shortcode is None or e.shortcode == shortcode)]

    # --- lifetime ------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the opening balances: every party reopens on first use, entries go."""
        self.businesses.reset()
        self.customers.reset()
        self.entries.reset()

    def restore(self) -> None:
        """After a restart: balances and entries as the --state file kept them."""
        _put(self.businesses, self.businesses.restore(), finished=False)
        _put(self.customers, self.customers.restore(), finished=False)
        _put(self.entries, self.entries.restore(), finished=True)


def _put(records: Records, rows: Iterable[object], *, finished: bool) -> None:  # type: ignore[type-arg]
    for record in rows:
        records.put(record, finished=finished)
