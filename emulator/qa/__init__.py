"""QA from the terminal: `daraja-emulator SUBCOMMAND` steers a running emulator over HTTP.

Every subcommand talks to the admin API through EmulatorHandle, so it works the same against a
laptop, a container or a CI service. --url and --admin-token are also DARAJA_URL and
DARAJA_ADMIN_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from emulator.config import DEFAULT_PORT
from emulator.handle import AdminAPIError, EmulatorError, EmulatorHandle, EmulatorUnreachable
from emulator.qa import initiators, money
from emulator.qa.format import attempt as _attempt
from emulator.qa.format import clip as _clip
from emulator.qa.format import clock as _clock
from emulator.qa.format import delay as _delay
from emulator.qa.format import table as _table

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
OUTCOMES = ("pay", "cancel", "wrong-pin", "insufficient-balance", "timeout")
STATES = ("pending", "waiting", "completed")
RESET_CLEARS = (  # what Emulator.reset() empties, as the tester knows it
    "transactions, phone locks, queued outcomes, scheduled callbacks, C2B payments, QR codes,"
    " initiator results, ledger entries, faults, the request journal and the callback inboxes"
)
RESET_KEEPS = ("access tokens, C2B URL registrations, the default scenario, the time scale and"
               " the rate limit")

Command = Callable[[EmulatorHandle, argparse.Namespace, TextIO], int]


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run one QA subcommand (argv[0]); 1 with a one-line reason when the emulator says no."""
    args, unknown = build_parser(env).parse_known_args(argv)
    if unknown:  # said with the subcommand's usage, not the top-level one (exits 2)
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    with EmulatorHandle(args.url, admin_token=args.admin_token) as emu:
        try:
            return int(args.run(emu, args, sys.stdout))
        except EmulatorUnreachable as exc:
            hint = f"no emulator at {args.url} (start it with: {_command()})"
            print(f"daraja-emulator: {hint if exc.refused else exc}", file=sys.stderr)
        except AdminAPIError as exc:
            print(f"daraja-emulator: {_refusal(emu, args.url, exc)}", file=sys.stderr)
        except KeyboardInterrupt:
            return 0
        except BrokenPipeError:  # `daraja-emulator transactions | head` closed the pipe early
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
            return 0
    return 1


def _command() -> str:
    """`daraja-emulator` by the path it ran from (a virtualenv's bin/ is often not on PATH),
    quoted for a shell; else its bare name."""
    ran = sys.argv[0] if sys.argv else ""
    return shlex.quote(ran) if os.path.basename(ran) == "daraja-emulator" else "daraja-emulator"


def _refusal(emu: EmulatorHandle, url: str, exc: AdminAPIError) -> str:
    """The admin API's reason; or, when nothing at the URL answers like an emulator, that."""
    try:
        health = emu.health()
    except EmulatorError:
        health = None
    if isinstance(health, dict) and health.get("status") == "ok" and "version" in health:
        return exc.message
    return (
        f"{url} does not look like a Daraja Emulator (HTTP {exc.status} from its admin API and no"
        " emulator at /_emulator/health); check --url or DARAJA_URL"
    )


# --- the parser ---------------------------------------------------------------------------


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=env.get("DARAJA_URL") or DEFAULT_URL,
        help=f"the running emulator (default {DEFAULT_URL}) [env DARAJA_URL]",
    )
    common.add_argument(
        "--admin-token",
        default=env.get("DARAJA_ADMIN_TOKEN") or None,
        metavar="TOKEN",
        help="sent as X-Admin-Token when the emulator has one [env DARAJA_ADMIN_TOKEN]",
    )
    parser = argparse.ArgumentParser(
        prog="daraja-emulator", description="Steer a running Daraja Emulator."
    )
    sub = parser.add_subparsers(required=True, metavar="SUBCOMMAND")
    for name, (run, help, add_args) in _SUBCOMMANDS.items():
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        add_args(p)
        p.set_defaults(run=run, parser=p)  # its own usage for an unknown option
    return parser


def _no_args(p: argparse.ArgumentParser) -> None:
    pass


def _default_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="a scenario name (see: daraja-emulator scenarios)")


def _queue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", metavar="SCENARIO")
    p.add_argument("--phone", metavar="P", help="only pushes to this MSISDN (default: any)")
    p.add_argument("--count", type=int, default=1, metavar="N", help="the next N pushes")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--clear", action="store_true", help="drop every queued outcome")
    mode.add_argument("--list", action="store_true", help="show the queue (also: no SCENARIO)")


def _transactions_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phone", metavar="P", help="only this MSISDN")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--limit", type=int, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument("--json", action="store_true", help="print the admin API's JSON")


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkout_id", metavar="CHECKOUT_ID")
    p.add_argument("--json", action="store_true", help="print the admin API's JSON")


def _decide_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkout_id", metavar="CHECKOUT_ID")
    p.add_argument("outcome", metavar="OUTCOME", help=f"one of: {', '.join(OUTCOMES)}")


def _fast_forward_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkout_id", nargs="?", metavar="CHECKOUT_ID", help="default: every one")


def _fault_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", metavar="FAULT",
                   help="spike-arrest, quota, internal-error, unavailable, edge-403, slow, drop, "
                   "... (no FAULT: list active faults)")
    from emulator.faults.model import Endpoint  # the admin API's own list: every family

    p.add_argument("--endpoint", choices=["any", *(e.value for e in Endpoint)], default="any")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--count", type=int, metavar="N", help="the next N requests (default 1)")
    when.add_argument("--seconds", type=float, metavar="T", help="every request for T seconds")
    when.add_argument("--clear", action="store_true", help="drop every active fault")
    p.add_argument("--delay", type=float, metavar="S", help="for slow: seconds before answering")


def _requests_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=30, metavar="N", help="newest N (default 30)")


def _follow_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interval", type=float, default=0.5, metavar="S", help="poll every S s")
    p.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds")


# --- the subcommands ----------------------------------------------------------------------


def cmd_scenarios(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    _table(
        ["  NAME", "RESULT", "DELAY", "CALLBACK", "PHONES"],
        [_scenario_row(s) for s in emu.scenarios()],
        out,
    )
    print("* default: used for pushes no other scenario matches", file=out)
    for line in SCENARIO_LEGEND:
        print(line, file=out)
    return 0


SCENARIO_LEGEND = (
    "fault:KIND: requests that match fail as KIND, no outcome of their own"
    " (fault:slow: the normal answer, late)",
    "c2b:answer|timeout: a C2B payment (payer's phone): your validation answer decides, or it"
    " counts as unanswered; CALLBACK is its confirmation",
    "initiator:CODE (or b2c:CODE, ...): how a B2C, B2B, Reversal, Transaction Status or Account"
    " Balance request ends; CALLBACK is its Result POST",
)
_ALL_APIS = ["b2b", "b2c", "balance", "reversal", "txstatus"]


def _scenario_row(s: dict[str, Any]) -> list[str]:
    name = ("* " if s["default"] else "  ") + s["name"]
    phones = " ".join(s["match"]["phones"]) or "-"
    if s.get("fault"):  # a fault scenario has no result, delay or callback
        return [name, f"fault:{s['fault']}", "-", "-", phones]
    if s.get("c2b"):  # a C2B scenario: its validation and its confirmations
        c2b = s["c2b"]
        return [name, f"c2b:{c2b['validation']}", _delay(c2b["delay"]), c2b["confirmation"],
                phones]
    if s.get("initiator"):  # an initiator scenario: its result code and its Result POST
        i = s["initiator"]
        apis = "initiator" if i["apis"] == _ALL_APIS else ",".join(i["apis"])
        return [name, f"{apis}:{i['result_code']}", _delay(i["delay"]), i["result"], phones]
    if s["manual"]:  # the phone decides the outcome; its result_code is only a placeholder
        return [name, "decided", "manual", s["callback"], phones]
    return [name, str(s["result_code"]), _delay(s["delay"]), s["callback"], phones]


def cmd_default(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    emu.set_default_scenario(args.name)
    print(f"default scenario: {args.name}", file=out)
    return 0


def cmd_queue(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    if args.clear:
        emu.clear_queue()
        print("queue cleared", file=out)
        return 0
    if args.scenario and not args.list:
        emu.queue(args.scenario, phone=args.phone, count=args.count)
        who = f"to {args.phone}" if args.phone else "to any phone"
        print(f"queued: the next {args.count} push(es) {who} end as {args.scenario}", file=out)
    _print_queue(emu.queued(), out)
    return 0


def _print_queue(queue: list[dict[str, Any]], out: TextIO) -> None:
    if not queue:
        print("queue: empty", file=out)
        return
    rows = [[q["phone"] or "any", ", ".join(q["scenarios"])] for q in queue]
    _table(["PHONE", "NEXT OUTCOMES (in order)"], rows, out)


def cmd_transactions(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    txns = emu.transactions(phone=args.phone, state=args.state, limit=args.limit)
    if args.json:
        print(json.dumps(txns, indent=2), file=out)
    elif not txns:
        print("no transactions", file=out)
    else:
        _table(
            ["CHECKOUT ID", "CREATED", "PHONE", "AMOUNT", "SCENARIO", "STATE", "RESULT", "CB"],
            [_transaction_row(t) for t in txns],
            out,
        )
    return 0


def _state(t: dict[str, Any]) -> str:
    """The state, with the seconds left when the outcome is still to come."""
    if t["state"] == "completed" or t["due_in"] is None:
        return str(t["state"])
    return f"{t['state']} (due in {t['due_in']:.0f}s)"


def _transaction_row(t: dict[str, Any]) -> list[str]:
    result = "" if t["result_code"] is None else f"{t['result_code']} {t['result_desc']}"
    return [
        t["checkout_request_id"],
        _clock(t["created_at"]),
        t["phone"],
        str(t["amount"]),
        t["scenario"],
        _state(t),
        _clip(result, 40),
        str(t["callbacks"]),
    ]


def cmd_show(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    txn = emu.transaction(args.checkout_id)
    if args.json:
        print(json.dumps(txn, indent=2), file=out)
        return 0
    result = "-" if txn["result_code"] is None else f"{txn['result_code']} {txn['result_desc']}"
    fields = [
        ("CheckoutRequestID", txn["checkout_request_id"]),
        ("MerchantRequestID", txn["merchant_request_id"]),
        ("state", _state(txn)),
        ("scenario", f"{txn['scenario']} ({txn['reason']})"),
        ("phone", txn["phone"]),
        ("amount", str(txn["amount"])),
        ("account reference", txn["account_reference"]),
        ("callback URL", txn["request"]["CallBackURL"]),
        ("result", result),
        ("receipt", txn["receipt"] or "-"),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}", file=out)
    print("\ntimeline:", file=out)
    for e in txn["timeline"]:
        print(f"  {_clock(e['at'], ms=True)}  {e['event']}", file=out)
    print(f"\ncallback attempts ({len(txn['callback_attempts'])}):", file=out)
    for a in txn["callback_attempts"]:
        print(f"  {_clock(a['at'], ms=True)}  {_attempt(a)}", file=out)
    return 0


def cmd_decide(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    txn = emu.decide(args.checkout_id, args.outcome)
    print(
        f"{txn['checkout_request_id']}: {args.outcome} -> ResultCode {txn['result_code']} "
        f"{txn['result_desc']}; the callback follows",
        file=out,
    )
    return 0


def cmd_fast_forward(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    n = emu.fast_forward(args.checkout_id)
    print(f"fast-forwarded {n} transaction(s): their outcomes are due now", file=out)
    return 0


def cmd_fault(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    if args.clear:
        emu.clear_faults()
        print("faults cleared", file=out)
        return 0
    if args.kind:
        emu.fail(args.kind, args.endpoint, args.count, args.seconds, args.delay)
        span = f"{args.seconds:g} s" if args.seconds else f"{args.count or 1} request(s)"
        print(f"fault: {args.kind} on {args.endpoint} for the next {span}", file=out)
    listing = emu.faults()
    rows = [[str(r["id"]), r["fault"], r["endpoint"], _how_long(r)] for r in listing["rules"]]
    if rows:
        _table(["ID", "FAULT", "ENDPOINT", "HOW LONG"], rows, out)
    else:
        print("no active faults", file=out)
    if listing["rate_limit"]:
        print(f"rate limit: {listing['rate_limit']} requests/s per consumer key", file=out)
    return 0


def _how_long(rule: dict[str, Any]) -> str:
    if rule["remaining"] is not None:
        return f"{rule['remaining']} left"
    return f"until {_clock(rule['until'])}"


def cmd_requests(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    rows = [[_clock(r["at"], ms=True), r["method"], r["path"], str(r["status"] or "-"),
             _clip(r["detail"], 70)] for r in emu.requests(args.limit)]
    _table(["TIME", "METHOD", "PATH", "STATUS", "WHY"], rows, out)
    return 0


def cmd_expire_tokens(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    print(f"expired {emu.expire_tokens()} token(s)", file=out)
    return 0


def cmd_reset(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    emu.reset()
    print(f"reset: {RESET_CLEARS} are gone; balances are back to their opening values",
          file=out)
    print(f"kept: {RESET_KEEPS}", file=out)
    return 0


def cmd_follow(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    """Print each new transaction, outcome and callback attempt until Ctrl-C."""
    watcher = _Follower(emu, out)
    watcher.poll(announce=False)
    print(f"following {emu.url} (Ctrl-C to stop)", file=out, flush=True)
    stop = time.monotonic() + args.max_seconds if args.max_seconds is not None else None
    while stop is None or time.monotonic() < stop:
        time.sleep(args.interval)
        watcher.poll()
    return 0


class _Follower:
    """Remembers what it has printed, so each poll prints only what is new."""

    def __init__(self, emu: EmulatorHandle, out: TextIO) -> None:
        self.emu, self.out = emu, out
        self.seen: dict[str, tuple[str, int]] = {}  # maps CheckoutRequestID -> (state, callbacks)

    def poll(self, announce: bool = True) -> None:
        txns = list(reversed(self.emu.transactions(limit=200)))  # oldest first
        for t in txns:
            key = t["checkout_request_id"]
            before = self.seen.get(key)
            self.seen[key] = (t["state"], t["callbacks"])
            if announce and before != self.seen[key]:
                # remember what the detail showed: it is read later than the list and may be newer
                self.seen[key] = self._report(t, before)
        current = {t["checkout_request_id"] for t in txns}
        self.seen = {k: v for k, v in self.seen.items() if k in current}  # forget after a reset

    def _report(self, t: dict[str, Any], before: tuple[str, int] | None) -> tuple[str, int]:
        key = t["checkout_request_id"]
        if before is None:
            self._line(
                t["created_at"],
                f"push      {key}  {t['phone']}  KES {t['amount']}  scenario {t['scenario']}",
            )
            before = ("pending", 0)
        detail = self.emu.transaction(key)
        if detail["state"] == "completed" and before[0] != "completed":
            result = f"{detail['result_code']} {detail['result_desc']}"
            self._line(detail["completed_at"], f"outcome   {key}  ResultCode {result}")
        for a in detail["callback_attempts"][before[1] :]:
            self._line(a["at"], f"callback  {key}  {_attempt(a)}")
        return detail["state"], len(detail["callback_attempts"])

    def _line(self, at: str | None, text: str) -> None:
        print(f"{_clock(at)}  {text}", file=self.out, flush=True)


_SUBCOMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {
    "scenarios": (cmd_scenarios, "list the loaded scenarios, marking the default", _no_args),
    "default": (cmd_default, "set the scenario for pushes nothing else matches", _default_args),
    "queue": (cmd_queue, "queue outcomes for the next pushes, or list/clear them", _queue_args),
    "transactions": (cmd_transactions, "list transactions, newest first", _transactions_args),
    "show": (cmd_show, "one transaction with its timeline and callback attempts", _show_args),
    "decide": (cmd_decide, "press a button on the customer's phone", _decide_args),
    "fast-forward": (cmd_fast_forward, "bring pending outcomes forward to now", _fast_forward_args),
    "follow": (cmd_follow, "print transactions and callbacks as they happen", _follow_args),
    "reset": (cmd_reset, "forget transactions, payments, results, faults and journals, and put "
              "balances back (tokens, C2B URLs and settings stay)", _no_args),
    "fault": (cmd_fault, "make Daraja fail the next requests, or list/clear faults", _fault_args),
    "requests": (cmd_requests, "the request journal: every Daraja request and why", _requests_args),
    "expire-tokens": (cmd_expire_tokens, "expire every access token now", _no_args),
    **money.SUBCOMMANDS,
    **initiators.SUBCOMMANDS,
}
COMMANDS = frozenset(_SUBCOMMANDS)  # the names cli.main() hands to this module
