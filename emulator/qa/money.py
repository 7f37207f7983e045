"""QA subcommands for money: balances of businesses and customers, C2B payments. Kept apart
from the STK subcommands in qa/__init__.py, which merges SUBCOMMANDS into its own."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TextIO

from emulator.handle import EmulatorHandle
from emulator.qa.format import clock, table

Command = Callable[[EmulatorHandle, argparse.Namespace, TextIO], int]


def _balance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="SHORTCODE|PHONE", help="a business or a customer")
    p.add_argument("amount", nargs="?", metavar="KES", help="set the balance to this")
    p.add_argument("--account", default="Utility Account",
                   help="which account of a business to set (default Utility Account)")


def _c2b_pay_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("shortcode", metavar="SHORTCODE")
    p.add_argument("phone", metavar="PHONE")
    p.add_argument("amount", metavar="KES", help="whole shillings, 1 to 250000")
    p.add_argument("--ref", metavar="ACCOUNT", help="BillRefNumber (the account number)")


def _c2b_payments_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phone", metavar="P", help="only payments from this MSISDN")
    p.add_argument("--shortcode", metavar="SHORTCODE", help="only payments into this shortcode")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument("--json", action="store_true", help="print the admin API's JSON")


def cmd_balance(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    """A business's accounts or a customer's wallet; with KES, set it first."""
    is_phone = len(args.target) == 12 and args.target.startswith("254")
    if args.amount is not None:
        if is_phone:
            emu.set_customer_balance(args.target, args.amount)
        else:
            emu.set_balance(args.target, args.amount, args.account)
    if is_phone:
        c = emu.customer(args.target)
        print(f"{c['phone']}  {c['name']}  KES {c['balance']}", file=out)
        return 0
    b = emu.business(args.target)
    print(f"{b['shortcode']} ({b['kind']}) {b['name']}", file=out)
    table(["ACCOUNT", "KES"], [[a, v] for a, v in b["accounts"].items()], out)
    return 0


def cmd_c2b_pay(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    p = emu.c2b_pay(args.shortcode, args.phone, args.amount, args.ref)
    then = ("validation and confirmation follow" if p.get("registration")
            else "no C2B URLs registered for it, so no validation or confirmation is sent")
    print(f"{p['trans_id']}: {p['phone']} pays {p['shortcode']} KES {p['amount']} "
          f"({p['transaction_type']}); {then}", file=out)
    return 0


def cmd_c2b_payments(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    found = emu.c2b_payments(args.phone, args.shortcode, args.limit)
    rows = [[p["trans_id"], clock(p["created_at"]), p["phone"], p["shortcode"],
             str(p["amount"]), p["state"], str(p["validations"]), str(p["confirmations"])]
            for p in found]
    if args.json:
        print(json.dumps(found, indent=2), file=out)
    elif rows:
        table(["TRANS ID", "AT", "PHONE", "SHORTCODE", "KES", "STATE", "VAL", "CONF"], rows, out)
    else:
        which = "".join(f" {word} {value}" for word, value in
                        (("from", args.phone), ("into", args.shortcode)) if value)
        print(f"no C2B payments{which}", file=out)
    return 0


SUBCOMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {
    "balance": (cmd_balance, "a shortcode's accounts or a customer's wallet; KES sets it",
                _balance_args),
    "c2b-pay": (cmd_c2b_pay, "a customer pays a shortcode (C2B): validation and confirmation "
                "follow", _c2b_pay_args),
    "c2b-payments": (cmd_c2b_payments, "list C2B payments, newest first (from a phone, into a "
                     "shortcode)", _c2b_payments_args),
}
