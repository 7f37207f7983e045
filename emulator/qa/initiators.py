"""QA subcommands for the initiator APIs (B2C, B2B, Reversal, Transaction Status, Account
Balance): what was asked and what result went back, queued outcomes, unlocks, the certificate.

Kept apart from the STK subcommands in qa/__init__.py, which merges SUBCOMMANDS into its own.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from emulator.handle import EmulatorHandle
from emulator.qa.format import attempt, clip, clock, table

APIS = ("b2c", "b2b", "reversal", "txstatus", "balance")
STATES = ("pending", "completed")
Command = Callable[[EmulatorHandle, argparse.Namespace, TextIO], int]


def _results_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api", choices=APIS, help="only this API")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--limit", type=int, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument("--json", action="store_true", help="print the admin API's JSON")


def _result_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("conversation_id", metavar="ID",
                   help="a ConversationID or OriginatorConversationID")
    p.add_argument("--json", action="store_true", help="print the admin API's JSON")


def _queue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="an initiator scenario, e.g. initiator-invalid, initiator-result-lost")
    p.add_argument("--api", choices=APIS, help="only requests to this API (default: any)")
    p.add_argument("--count", type=int, default=1, metavar="N", help="the next N requests")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--clear", action="store_true", help="drop every queued outcome")
    mode.add_argument("--list", action="store_true", help="show the queue (also: no SCENARIO)")


def _unlock_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="INITIATOR")


def _fast_forward_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("conversation_id", nargs="?", metavar="ID", help="default: every one")


def _certificate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, metavar="FILE", help="write it to FILE (default: print)")


def cmd_results(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    rows = emu.initiator_results(api=args.api, state=args.state, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
    elif not rows:
        print("no initiator requests", file=out)
    else:
        table(["CONVERSATION ID", "CREATED", "API", "INITIATOR", "SCENARIO", "STATE", "RESULT",
               "POSTS"], [_row(r) for r in rows], out)
    return 0


def _state(r: dict[str, Any]) -> str:
    if r["state"] == "completed" or r["due_in"] is None:
        return str(r["state"])
    return f"{r['state']} (due in {r['due_in']:.0f}s)"


def _row(r: dict[str, Any]) -> list[str]:
    code = "" if r["result_code"] is None else str(r["result_code"])
    return [r["conversation_id"], clock(r["created_at"]), r["api"], clip(r["initiator"], 20),
            r["scenario"] or "-", _state(r), code, str(r["posts"])]


def cmd_result(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    job = emu.initiator_result(args.conversation_id)
    if args.json:
        print(json.dumps(job, indent=2), file=out)
        return 0
    result = (job["result"] or {}).get("Result", {})
    desc = result.get("ResultDesc", "")
    outcome = "-" if job["result_code"] is None else f"{job['result_code']} {desc}".strip()
    fields = [
        ("ConversationID", job["conversation_id"]),
        ("OriginatorConversationID", job["originator_conversation_id"]),
        ("api", job["api"]),
        ("initiator", job["initiator"]),
        ("credential", job["credential"]),
        ("state", _state(job)),
        ("scenario", f"{job['scenario'] or '-'} (result {job['result_mode']})"),
        ("result", outcome),
        ("receipt", job["receipt"] or "-"),
        ("ResultURL", job["request"].get("ResultURL", "")),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}", file=out)
    print("\ntimeline:", file=out)
    for e in job["timeline"]:
        print(f"  {clock(e['at'], ms=True)}  {e['event']}", file=out)
    print(f"\nresult posts ({len(job['attempts'])}):", file=out)
    for a in job["attempts"]:
        print(f"  {clock(a['at'], ms=True)}  {attempt(a)}", file=out)
    return 0


def cmd_queue(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    if args.clear:
        emu.clear_initiator_queue()
        print("initiator queue cleared", file=out)
        return 0
    if args.scenario and not args.list:
        emu.queue_initiator(args.scenario, api=args.api, count=args.count)
        to = f"to {args.api}" if args.api else "to any initiator API"
        print(f"queued: the next {args.count} request(s) {to} end as {args.scenario}", file=out)
    queue = emu.initiator_queue()
    if not queue:
        print("initiator queue: empty", file=out)
    else:
        table(["API", "NEXT OUTCOMES (in order)"],
              [[q["api"] or "any", ", ".join(q["scenarios"])] for q in queue], out)
    return 0


def cmd_unlock(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    was = emu.unlock_initiator(args.name)
    print(f"{args.name}: {'unlocked' if was else 'was not locked'}", file=out)
    return 0


def cmd_fast_forward(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    n = emu.fast_forward_result(args.conversation_id)
    print(f"fast-forwarded {n} initiator request(s): their results are due now", file=out)
    return 0


def cmd_certificate(emu: EmulatorHandle, args: argparse.Namespace, out: TextIO) -> int:
    pem = emu.initiator_certificate()
    if args.out is None:
        print(pem.decode(), end="", file=out)
    else:
        args.out.write_bytes(pem)
        print(f"certificate written to {args.out}: encrypt initiator passwords with it",
              file=out)
    return 0


SUBCOMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {
    "results": (cmd_results, "list initiator requests (B2C, B2B, reversal, status, balance) "
                "and their results, newest first", _results_args),
    "result": (cmd_result, "one initiator request: credential verdict, result, timeline, "
               "posts", _result_args),
    "queue-initiator": (cmd_queue, "queue outcomes for the next initiator requests, or "
                        "list/clear them", _queue_args),
    "fast-forward-result": (cmd_fast_forward, "bring pending initiator results forward to now",
                            _fast_forward_args),
    "unlock": (cmd_unlock, "unlock an initiator locked by wrong passwords", _unlock_args),
    "certificate": (cmd_certificate, "the certificate to encrypt initiator passwords with "
                    "(--strict-credentials)", _certificate_args),
}
