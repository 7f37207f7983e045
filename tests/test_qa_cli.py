"""The QA subcommands of daraja-emulator against a real server, in-process and as a process."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emulator import EmulatorServer, Settings
from emulator.cli import main
from tests.helpers import CallbackReceiver, Daraja

Run = Callable[..., tuple[int, str, str]]
MANUAL = "254710000003"  # waits for a decision


@pytest.fixture
def run(server: EmulatorServer, capsys: pytest.CaptureFixture[str]) -> Run:
    """daraja-emulator ARGS... against the test's server: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--url", server.url], {})
        out, err = capsys.readouterr()
        return code, out, err

    return run


def push(daraja: Daraja, phone: str) -> str:
    r = daraja.push(phone)
    assert r.status_code == 200, r.text
    return r.json()["CheckoutRequestID"]


def slow(daraja: Daraja) -> None:
    """Keep new pushes pending for a long while."""
    daraja.admin("POST", "/time", json={"scale": 1000})


def test_scenarios_lists_each_and_marks_the_default(run: Run) -> None:
    code, out, _ = run("scenarios")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "RESULT", "DELAY", "CALLBACK", "PHONES"]
    assert any(line.startswith("* success ") for line in lines)
    cancelled = next(line for line in lines if line.startswith("  cancelled "))
    assert cancelled.split() == ["cancelled", "1032", "5-15s", "once", "254700001032"]
    assert "254710000001" in next(line for line in lines if " lost-callback " in line)
    manual = next(line for line in lines if line.startswith("  manual "))
    assert manual.split() == ["manual", "decided", "manual", "once", "254710000003"]


def test_scenarios_shows_a_fault_scenario_as_its_fault(run: Run) -> None:
    lines = run("scenarios")[1].splitlines()
    row = next(line for line in lines if line.startswith("  fault-slow "))
    assert row.split() == ["fault-slow", "fault:slow", "-", "-", "254799000009"]
    assert any(line.startswith("fault:KIND: ") for line in lines)


def test_scenarios_shows_c2b_and_initiator_scenarios_as_what_they_do(run: Run) -> None:
    rows = {line.split()[0]: line.split() for line in run("scenarios")[1].splitlines()
            if line.startswith("  ")}
    assert rows["c2b-slow"] == ["c2b-slow", "c2b:answer", "20-40s", "once", "254711000004"]
    assert rows["c2b-confirmation-lost"][1:4] == ["c2b:answer", "0s", "never"]
    assert rows["initiator-result-lost"] == ["initiator-result-lost", "initiator:0", "1-3s",
                                             "never", "-"]
    assert rows["b2c-initiator-invalid"] == ["b2c-initiator-invalid", "b2c:2001", "1-3s",
                                             "once", "254712002001"]
    assert not any("INITIATOR" in row or "C2B" in row for row in rows.values())


def test_default_changes_what_unmatched_pushes_do(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    assert run("default", "cancelled")[:2] == (0, "default scenario: cancelled\n")
    assert any(line.startswith("* cancelled ") for line in run("scenarios")[1].splitlines())
    [callback] = receiver.wait(push(daraja, "254711222333"))
    assert callback["Body"]["stkCallback"]["ResultCode"] == 1032


def test_default_unknown_scenario_fails_with_the_reason(run: Run) -> None:
    code, out, err = run("default", "no-such")
    assert (code, out) == (1, "")
    assert err.startswith("daraja-emulator: ") and "scenario named 'no-such'" in err


def test_queue_list_and_clear(run: Run, daraja: Daraja, receiver: CallbackReceiver) -> None:
    code, out, _ = run("queue", "timeout", "--phone", "254711000222", "--count", "2")
    assert code == 0
    assert "the next 2 push(es) to 254711000222 end as timeout" in out
    assert "254711000222  timeout, timeout" in out
    [callback] = receiver.wait(push(daraja, "254711000222"))
    assert callback["Body"]["stkCallback"]["ResultCode"] == 1037
    assert "254711000222  timeout\n" in run("queue", "--list")[1]
    assert "254711000222  timeout\n" in run("queue")[1]
    assert run("queue", "--clear")[:2] == (0, "queue cleared\n")
    assert run("queue")[1] == "queue: empty\n"


def test_queue_unknown_scenario(run: Run) -> None:
    code, _, err = run("queue", "no-such")
    assert code == 1 and "'no-such'" in err


def test_transactions_table_is_aligned_and_filtered(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    done = push(daraja, "254700001032")
    receiver.wait(done)
    slow(daraja)
    pending = push(daraja, "254708374149")
    code, out, _ = run("transactions")
    header, *rows = out.splitlines()
    assert code == 0 and len(rows) == 2
    assert rows[0].startswith(pending) and rows[1].startswith(done)  # newest first
    for column in ("PHONE", "SCENARIO", "STATE", "CB"):
        at = header.index(column)
        assert all(row[at - 1] == " " and row[at] != " " for row in rows), column
    assert "1032 Request cancelled by user" in rows[1]
    assert "pending (due in" in rows[0]
    assert run("transactions", "--state", "completed")[1].count("ws_CO_") == 1
    assert run("transactions", "--phone", "254700001032")[1].count("ws_CO_") == 1
    assert run("transactions", "--phone", "254799999999")[1] == "no transactions\n"


def test_transactions_json(run: Run, daraja: Daraja) -> None:
    checkout_id = push(daraja, "254708374149")
    [row] = json.loads(run("transactions", "--json")[1])
    assert row["checkout_request_id"] == checkout_id


def test_transactions_rejects_unknown_state(run: Run) -> None:
    with pytest.raises(SystemExit) as exc:
        run("transactions", "--state", "lost")
    assert exc.value.code == 2


def test_an_unknown_option_is_told_with_the_subcommands_usage(
    capsys: pytest.CaptureFixture[str]
) -> None:
    from emulator.cli import main

    for argv in (["c2b-pay", "600000", "254708374149", "100", "--bogus"],
                 ["transactions", "--nope", "1"]):
        with pytest.raises(SystemExit) as exc:
            main(argv, {})
        err = capsys.readouterr().err
        assert exc.value.code == 2
        assert f"usage: daraja-emulator {argv[0]} " in err
        assert f"daraja-emulator {argv[0]}: error: unrecognized arguments:" in err


def test_show_prints_request_timeline_and_attempts(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    checkout_id = push(daraja, "254708374149")
    receiver.wait(checkout_id)
    code, out, _ = run("show", checkout_id)
    assert code == 0
    assert f"CheckoutRequestID  {checkout_id}" in out
    assert "scenario           success (matched scenario 'success'" in out
    assert "result             0 The service request is processed successfully." in out
    assert "\ntimeline:\n" in out and "push accepted" in out and "outcome due" in out
    assert "\ncallback attempts (1):\n" in out
    assert f"POST {receiver.url()} -> 200" in out


def test_show_unknown_transaction(run: Run) -> None:
    assert run("show", "ws_CO_nope") == (1, "", "daraja-emulator: no transaction ws_CO_nope\n")


def test_decide_presses_a_button_on_the_phone(
    run: Run, daraja: Daraja, receiver: CallbackReceiver
) -> None:
    checkout_id = push(daraja, MANUAL)
    code, out, _ = run("decide", checkout_id, "cancel")
    assert code == 0
    assert out == (
        f"{checkout_id}: cancel -> ResultCode 1032 Request cancelled by user; "
        "the callback follows\n"
    )
    [callback] = receiver.wait(checkout_id)
    assert callback["Body"]["stkCallback"]["ResultCode"] == 1032
    code, _, err = run("decide", checkout_id, "pay")
    assert code == 1 and "has already ended" in err


def test_decide_unknown_outcome(run: Run, daraja: Daraja) -> None:
    code, _, err = run("decide", push(daraja, MANUAL), "shrug")
    assert code == 1 and "outcome must be one of" in err


def test_fast_forward_one_then_all(run: Run, daraja: Daraja, receiver: CallbackReceiver) -> None:
    slow(daraja)
    first, second = push(daraja, "254708374149"), push(daraja, "254700001032")
    assert run("fast-forward", first)[1].startswith("fast-forwarded 1 transaction(s)")
    receiver.wait(first)
    assert receiver.for_id(second) == []
    assert run("fast-forward")[1].startswith("fast-forwarded 1 transaction(s)")
    receiver.wait(second)
    code, _, err = run("fast-forward", second)
    assert code == 1 and "has already ended" in err


def test_reset_forgets_transactions_and_faults_and_says_so(run: Run, daraja: Daraja) -> None:
    push(daraja, "254708374149")
    run("fault", "unavailable", "--seconds", "30")
    code, out, _ = run("reset")
    assert code == 0
    cleared, kept = out.splitlines()
    for word in ("transactions", "queued outcomes", "scheduled callbacks", "faults"):
        assert word in cleared
    assert "tokens" in kept and "default scenario" in kept and "rate limit" in kept
    assert run("transactions")[1] == "no transactions\n"
    assert run("fault")[1].strip() == "no active faults"


def test_url_and_admin_token_from_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with EmulatorServer(Settings(time_scale=0, admin_token="s3cret")) as server:
        assert main(["reset"], {"DARAJA_URL": server.url}) == 1
        assert "admin token required" in capsys.readouterr().err
        env = {"DARAJA_URL": server.url, "DARAJA_ADMIN_TOKEN": "s3cret"}
        assert main(["reset"], env) == 0
        assert main(["reset", "--url", server.url, "--admin-token", "s3cret"], {}) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_a_friendly_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["transactions", "--url", url], {}) == 1
    assert capsys.readouterr().err == (
        f"daraja-emulator: no emulator at {url} (start it with: daraja-emulator)\n"
    )


def test_something_else_at_the_url(
    receiver: CallbackReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{receiver.port}"  # answers GET with an HTML 501
    assert main(["scenarios", "--url", url], {}) == 1
    assert "without JSON: is it a Daraja Emulator?" in capsys.readouterr().err


class NotFoundJSON(BaseHTTPRequestHandler):
    """Another web app: every path is a 404 with a JSON body, as FastAPI answers."""

    def do_GET(self) -> None:  # noqa: N802
        body = b'{"detail": "Not Found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_an_emulator() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFoundJSON)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", [["transactions"], ["show", "ws_CO_1"], ["scenarios"]])
def test_a_json_404_app_at_the_url_is_named_not_an_emulator(
    not_an_emulator: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--url", not_an_emulator], {}) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        f"daraja-emulator: {not_an_emulator} does not look like a Daraja Emulator (HTTP 404"
    )
    assert "check --url or DARAJA_URL" in err and "'detail'" not in err


def test_the_emulator_own_404_is_still_its_reason(run: Run) -> None:
    assert run("show", "ws_CO_nope")[2] == "daraja-emulator: no transaction ws_CO_nope\n"


def test_balance_and_c2b_pay(run: Run) -> None:
    code, out, _ = run("balance", "254722000777", "250")
    assert code == 0 and out.strip().endswith("KES 250.00")
    code, out, _ = run("c2b-pay", "600100", "254722000777", "50", "--ref", "ACC-1")
    assert code == 0 and "pays 600100 KES 50 (Pay Bill)" in out
    for _ in range(200):
        if run("balance", "254722000777")[1].strip().endswith("KES 200.00"):
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the C2B payment did not move the money")
    code, out, _ = run("balance", "600100")
    assert re.search(r"Utility Account +1000050.00", out)
    code, out, _ = run("c2b-payments")
    assert "600100" in out and "completed" in out
    assert "c2b:timeout" in run("scenarios")[1]


def _paid(run: Run, shortcode: str, phone: str) -> str:
    code, out, err = run("c2b-pay", shortcode, phone, "5")
    assert code == 0, err
    return out.split(":")[0]


def test_c2b_payments_filters_by_phone_and_shortcode(run: Run) -> None:
    mine = _paid(run, "600101", "254722000701")
    other_phone = _paid(run, "600101", "254722000702")
    other_code = _paid(run, "600102", "254722000701")
    code, out, _ = run("c2b-payments", "--phone", "254722000701")
    assert code == 0 and mine in out and other_code in out and other_phone not in out
    out = run("c2b-payments", "--shortcode", "600101")[1]
    assert mine in out and other_phone in out and other_code not in out
    out = run("c2b-payments", "--phone", "254722000701", "--shortcode", "600101")[1]
    assert mine in out and other_phone not in out and other_code not in out
    assert len(run("c2b-payments", "--limit", "1")[1].splitlines()) == 2  # header and one row
    code, out, _ = run("c2b-payments", "--shortcode", "600101", "--json")
    assert code == 0 and {p["trans_id"] for p in json.loads(out)} == {mine, other_phone}
    assert run("c2b-payments", "--phone", "254722000709")[1] == (
        "no C2B payments from 254722000709\n")


@pytest.mark.parametrize(("phone", "amount", "reason"), [
    ("254722000777", "x", "amount must be a whole number of shillings from 1 to 250000, "
     "got 'x'"),
    ("254722000777", "0", "amount must be a whole number of shillings from 1 to 250000, "
     "got '0'"),
    ("254722000777", "12.50", "amount must be a whole number of shillings from 1 to 250000, "
     "got '12.50'"),
    ("0708374149", "10", "phone must be 2547XXXXXXXX or 2541XXXXXXXX (12 digits), got "
     "'0708374149' (write it as 254708374149)"),
    ("+254708374149", "10", "phone must be 2547XXXXXXXX or 2541XXXXXXXX (12 digits), got "
     "'+254708374149' (without the +)"),
])
def test_c2b_pay_says_what_is_wrong_and_what_is_expected(
    run: Run, phone: str, amount: str, reason: str
) -> None:
    assert run("c2b-pay", "600100", phone, amount) == (1, "", f"daraja-emulator: {reason}\n")


def test_serve_help_names_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"], {})
    out = " ".join(capsys.readouterr().out.split())
    assert "scenarios, default, queue, transactions, show, decide, fast-forward, follow" in out


# --- as a separate process ------------------------------------------------------------------


def console_script() -> Path:
    return Path(sys.executable).with_name("daraja-emulator")


def test_console_script_reports_no_server() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [str(console_script()), "scenarios"],
        env={**os.environ, "DARAJA_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    # the command by the path it ran from: a virtualenv's bin/ is often not on PATH
    assert f"no emulator at {url} (start it with: {shlex.quote(str(console_script()))})" \
        in done.stderr


@pytest.fixture
def follow(server: EmulatorServer) -> Iterator[subprocess.Popen[str]]:
    """`python -m emulator follow` for at most a few seconds, started and ready."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "follow", "--interval", "0.05", "--max-seconds", "4"],
        env={**os.environ, "DARAJA_URL": server.url},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == f"following {server.url} (Ctrl-C to stop)\n"
    yield proc
    proc.kill()
    proc.wait()


def test_follow_prints_pushes_outcomes_and_callbacks(
    follow: subprocess.Popen[str], daraja: Daraja, receiver: CallbackReceiver
) -> None:
    checkout_id = push(daraja, "254710000002")  # two callbacks
    receiver.wait(checkout_id, count=2)
    time.sleep(0.3)  # let it poll once more
    follow.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = follow.communicate(timeout=10)
    assert follow.returncode == 0
    lines = [line.split(maxsplit=3)[1:] for line in out.splitlines()]
    assert [kind for kind, *_ in lines] == ["push", "outcome", "callback", "callback"]
    assert all(rest[0] == checkout_id for _, *rest in lines)
    assert "ResultCode 0 The service request" in out
    assert out.count(f"POST {receiver.url()} -> 200") == 2


def test_fault_next_requests_then_list_and_clear(run: Run, daraja: Daraja) -> None:
    daraja.token()
    code, out, _ = run("fault", "spike-arrest", "--endpoint", "push", "--count", "2")
    assert code == 0 and "spike-arrest on push for the next 2" in out
    assert "2 left" in out
    codes = [daraja.push(f"25471100030{i}").status_code for i in range(3)]
    assert codes == [500, 500, 200]
    assert run("fault")[1].strip() == "no active faults"
    out = run("fault", "unavailable", "--seconds", "30")[1]
    assert out.startswith("fault: unavailable on any for the next 30 s\n")
    assert re.search(r"unavailable +any +until \d\d:\d\d:\d\d\n", out), out
    assert daraja.push("254711000310").status_code == 503
    assert run("fault", "--clear")[1] == "faults cleared\n"
    assert daraja.push("254711000311").status_code == 200


def test_fault_unknown_kind_fails_with_the_reason(run: Run) -> None:
    code, _, err = run("fault", "meltdown")
    assert code == 1 and "fault must be one of" in err


def test_requests_journal_and_expire_tokens(run: Run, daraja: Daraja) -> None:
    daraja.push("254799000001")  # the spike-arrest magic number
    code, out, _ = run("requests", "--limit", "5")
    assert code == 0 and "fault spike-arrest" in out and "/mpesa/stkpush/v1/processrequest" in out
    code, out, _ = run("expire-tokens")
    assert code == 0 and out.startswith("expired ")
    assert daraja.push("254711000312").json()["errorCode"] == "404.001.03"


def test_c2b_payments_refuses_a_phone_that_would_match_nothing(run: Run) -> None:
    """A phone written 07... is no MSISDN: it would silently list nothing."""
    _paid(run, "600103", "254722000711")
    assert run("c2b-payments", "--phone", "0722000711") == (
        1, "", "daraja-emulator: phone must be 2547XXXXXXXX or 2541XXXXXXXX (12 digits), got "
        "'0722000711' (write it as 254722000711)\n")


def test_c2b_pay_says_nothing_follows_without_registered_urls(run: Run) -> None:
    code, out, _ = run("c2b-pay", "600104", "254722000712", "5")
    assert code == 0 and out.rstrip().endswith(
        "no C2B URLs registered for it, so no validation or confirmation is sent")


def test_fault_can_aim_at_every_family_the_admin_api_knows(run: Run) -> None:
    for endpoint in ("c2b-simulate", "c2b-register", "b2c", "reversal", "qr"):
        code, out, _ = run("fault", "spike-arrest", "--endpoint", endpoint, "--count", "1")
        assert code == 0 and f"spike-arrest on {endpoint} for the next 1" in out, out
    assert run("fault", "--clear")[1] == "faults cleared\n"
