#!/usr/bin/env python3
"""Benchmark the Daraja Emulator; prints one table, every figure measured in this run.

    python bench/run.py            # full run, several minutes
    python bench/run.py --quick    # reduced, under a minute
    python bench/run.py --smoke    # tiny, for the test suite: checks it runs, measures nothing

Everything runs on 127.0.0.1: the emulator (`python -m emulator`, via bench/servers.py, which only
fixes uvicorn's loop and HTTP parser), a bare Starlette app on uvicorn + uvloop + httptools (the
framework's ceiling, the same fast one for every stack), a fast callback receiver, and Debian's
`wrk` as the load generator. Start-up is timed beside the bare app's and a peer mock's,
daraja-mock 1.0.5 (Flask), found on PATH or given with --peer-mock. Each phase is bounded in
time; every process started here is stopped here, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVERS = HERE / "servers.py"
LUA_DIR = HERE / "wrk"

SHORTCODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"  # sandbox, public
BASIC = base64.b64encode(b"bench-key:bench-secret").decode()
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Stack:
    name: str
    loop: str
    http: str


# the default install serves on uvloop + httptools (uvicorn picks them when present); the ceiling
# always runs on it, so both columns are ratios to the same, fastest, bare framework
FAST_STACK = Stack("uvloop + httptools (default)", "uvloop", "httptools")
SLOW_STACK = Stack("asyncio + h11", "asyncio", "h11")


@dataclass
class Profile:
    name: str
    rounds: int  # wrk runs per figure; the table shows the median
    duration: int  # seconds per wrk run
    warmup: int  # seconds of wrk before the measured rounds (0: none)
    connections: int  # wrk connections
    startups: int  # launches timed for the start-up figure
    e2e_seconds: float  # closed-loop pushing time for the end-to-end rate
    e2e_rounds: int  # repetitions of it (median), at most 3
    lateness: list[tuple[int, float, float]]  # (pending at once, pushes/s, scenario delay s)
    memory: list[int]  # pending transactions at which RSS is read
    budget: float  # seconds the whole run may take


# lateness: paced at 250 pushes/s, about half of what one core delivers end to end, so the
# callbacks fall due while the cores are not saturated; the delay outlasts the pushing, so every
# transaction is pending at once
PROFILES = {
    "full": Profile(
        "full", 5, 3, 1, 32, 5, 10, 3, [(1000, 250, 10), (10000, 250, 45)], [10_000, 100_000], 1800
    ),
    "quick": Profile("quick", 1, 2, 1, 32, 3, 3, 1, [(1000, 250, 5)], [10_000], 150),
    "smoke": Profile("smoke", 1, 1, 0, 8, 1, 1, 1, [(100, 200, 1)], [1000], 90),
}


class PhaseError(Exception):
    pass


PEER_INSTALL = (
    "pip install daraja-mock==1.0.5 into a venv of its own, then give --peer-mock "
    "VENV/bin/daraja-mock (or put it on PATH)"
)


@dataclass(frozen=True)
class Peer:
    """Another Daraja mock whose start-up the emulator's is timed against."""

    path: str  # its executable
    label: str  # its name and version, for the table
    health: str = "/health"  # the path that answers 200 once it serves


def find_peer(given: str | None) -> Peer | None:
    """daraja-mock from --peer-mock, else from PATH; None when neither has it."""
    path = given or shutil.which("daraja-mock")
    if path is None:
        return None
    if not os.access(path, os.X_OK):
        raise SystemExit(f"bench: --peer-mock {path}: not an executable file")
    version = peer_version(path)
    label = f"daraja-mock {version} (Flask)" if version else "daraja-mock (Flask, version unknown)"
    return Peer(path, label)


def peer_version(path: str) -> str:
    """The version installed in the venv the executable sits in ("" if it sits in none)."""
    python = Path(path).parent / "python"
    code = "import importlib.metadata as m; print(m.version('daraja-mock'))"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()
    return ""


# ----------------------------------------------------------------------------- processes


class Processes:
    """Every child process, so each one is stopped whatever happens."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.live: list[subprocess.Popen[bytes]] = []
        self._n = 0

    def start(self, name: str, args: list[str], module: str = "") -> subprocess.Popen[bytes]:
        """bench/servers.py with `args`, or `python -m module args` when a module is named."""
        command = ["-m", module] if module else [str(SERVERS)]
        return self.spawn(name, [sys.executable, *command, *args])

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Any program; its output goes to a log of its own."""
        self._n += 1
        log_path = self.tmp / f"{self._n:02d}-{name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # a Ctrl-C reaches us only; we stop them
            )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            with contextlib.suppress(Exception):
                self.stop(proc, timeout=5)


def log_tail(proc: subprocess.Popen[bytes], lines: int = 15) -> str:
    path: Path | None = getattr(proc, "log_path", None)
    with contextlib.suppress(OSError, AttributeError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def compile_bytecode() -> None:
    """Write the emulator's bytecode, as `pip install` does for what it installs (an editable
    install writes it on its first run, unless PYTHONDONTWRITEBYTECODE is set): start-up then
    reads it instead of compiling every module, as it would for a user."""
    spec = importlib.util.find_spec("emulator")
    if spec is None or spec.origin is None:
        return
    folder = str(Path(spec.origin).parent)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- raw HTTP client

_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_CHECKOUT_ID = re.compile(rb'"CheckoutRequestID":"([^"]+)"')


class Conn:
    """One keep-alive HTTP/1.1 connection; small and fast enough to pace thousands of pushes/s."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: bytes, path: bytes, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        self.writer.write(
            b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (method, path, headers, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = _CONTENT_LENGTH.search(head)
        data = await self.reader.readexactly(int(match.group(1))) if match else b""
        return int(head[9:12]), data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            self.reader = self.writer = None


async def call(
    port: int, method: str, path: str, body: bytes = b"", headers: bytes = b""
) -> tuple[int, bytes]:
    conn = Conn(port)
    try:
        return await asyncio.wait_for(
            conn.request(method.encode(), path.encode(), body, headers), 30
        )
    finally:
        await conn.close()


async def wait_healthy(
    port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0, path: str = "/_emulator/health"
) -> float:
    """Poll GET `path` every 5 ms; the monotonic time it first answered 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PhaseError(f"process exited with {proc.returncode}:\n{log_tail(proc)}")
        try:
            status, _ = await call(port, "GET", path)
            if status == 200:
                return time.monotonic()
        except (OSError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.005)
    raise PhaseError(f"not healthy within {timeout:.0f} s:\n{log_tail(proc)}")


# ----------------------------------------------------------------------------- Daraja requests


def timestamp_and_password() -> tuple[str, str]:
    ts = time.strftime("%Y%m%d%H%M%S")
    return ts, base64.b64encode(f"{SHORTCODE}{PASSKEY}{ts}".encode()).decode()


TS, PASSWORD = timestamp_and_password()


def push_body(phone: str, callback: str) -> bytes:
    return json.dumps(
        {
            "BusinessShortCode": SHORTCODE,
            "Password": PASSWORD,
            "Timestamp": TS,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 1,
            "PartyA": phone,
            "PartyB": SHORTCODE,
            "PhoneNumber": phone,
            "CallBackURL": callback,
            "AccountReference": "BENCH-1",
            "TransactionDesc": "Benchmark push",
        },
        separators=(",", ":"),
    ).encode()


def phone(block: int, i: int) -> str:
    """Distinct phones per phase: 2547 + block + 7 digits; blocks 2-8 are clear of every magic
    number (2547000..., 2547100000...) and fault number (2547990000..)."""
    return f"2547{block}{i:07d}"


async def get_token(port: int) -> str:
    status, body = await call(
        port,
        "GET",
        "/oauth/v1/generate?grant_type=client_credentials",
        headers=f"Authorization: Basic {BASIC}\r\n".encode(),
    )
    if status != 200:
        raise PhaseError(f"oauth answered {status}: {body[:200]!r}")
    return json.loads(body)["access_token"]


def push_headers(token: str) -> bytes:
    return f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n".encode()


@dataclass
class PushRun:
    accepted: dict[str, float] = field(default_factory=dict)  # CheckoutRequestID -> send time
    statuses: Counter[int] = field(default_factory=Counter)
    first_send: float = 0.0
    last_answer: float = 0.0
    errors: int = 0


async def push_many(
    port: int,
    token: str,
    callback: str,
    block: int,
    count: int,
    *,
    rate: float | None = None,
    seconds: float | None = None,
    connections: int = 8,
    start_index: int = 0,
    timeout: float = 300.0,
) -> PushRun:
    """Push to distinct phones: paced at `rate`/s, or as fast as answers come (closed loop).

    Stops at `count` pushes or after `seconds`; raises if it takes longer than `timeout`.
    """
    run = PushRun()
    headers = push_headers(token)
    path = b"/mpesa/stkpush/v1/processrequest"
    next_index = iter(range(count))
    t0 = time.monotonic()
    run.first_send = t0
    stop_at = t0 + seconds if seconds is not None else float("inf")

    async def worker() -> None:
        conn = Conn(port)
        try:
            for i in next_index:
                if rate is not None:
                    wait = t0 + i / rate - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                sent = time.monotonic()
                if sent >= stop_at:
                    return
                body = push_body(phone(block, start_index + i), callback)
                try:
                    status, answer = await conn.request(b"POST", path, body, headers)
                except (OSError, asyncio.IncompleteReadError):
                    run.errors += 1
                    await conn.close()
                    continue
                run.statuses[status] += 1
                run.last_answer = time.monotonic()
                match = _CHECKOUT_ID.search(answer)
                if status == 200 and match:
                    run.accepted[match.group(1).decode()] = sent
        finally:
            await conn.close()

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), timeout)
    return run


# ----------------------------------------------------------------------------- wrk


_wrk_runs = 0


async def run_wrk(script: str, port: int, seconds: int, connections: int, env: dict[str, str]):
    """One wrk run; its summary (requests, non-2xx, latency percentiles) as a dict.

    Each run pushes to its own block of a million phones (push.lua), so no phone is reused.
    """
    global _wrk_runs
    _wrk_runs += 1
    base = str(_wrk_runs % 60 * 1_000_000)
    args = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_DIR / script),
        f"http://{HOST}:{port}/",
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), "BENCH_PHONE_BASE": base, **env},
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), seconds + 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise PhaseError(f"wrk failed ({proc.returncode}): {text[-500:]}")
    result = json.loads(line[len("BENCH ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    return result


# ----------------------------------------------------------------------------- statistics


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


# ----------------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(
        self,
        profile: Profile,
        stacks: list[Stack],
        tmp: Path,
        have_wrk: bool,
        ceiling_stack: Stack = FAST_STACK,
        peer: Peer | None = None,
    ) -> None:
        self.p = profile
        self.peer = peer
        self.stacks = stacks
        self.ceiling_stack = ceiling_stack
        self.tmp = tmp
        self.have_wrk = have_wrk
        self.procs = Processes(tmp)
        self.results: dict[str, dict[str, str]] = {}  # row label -> stack name -> cell
        self.failures: list[str] = []
        self.receiver_port = 0
        self.deadline = time.monotonic() + profile.budget

    # -- table cells

    def put(self, row: str, stack: Stack, cell: str) -> None:
        self.results.setdefault(row, {})[stack.name] = cell

    async def phase(self, title: str, stack: Stack, fn: Callable[[], Awaitable[None]]) -> None:
        """Run one phase within the run's deadline; a failure fills its rows and goes on."""
        left = self.deadline - time.monotonic()
        print(f"  [{stack.name}] {title} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        running = list(self.procs.live)
        try:
            if left <= 0:
                raise PhaseError("skipped: the run's time budget is spent")
            await asyncio.wait_for(fn(), left)
        except Exception as exc:  # report it in the table and keep going
            reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc)
            self.failures.append(f"{stack.name} / {title}: {reason or repr(exc)}")
            self.put(f"{title}: FAILED", stack, "FAILED (see below)")
        finally:  # nothing a phase started outlives it, even when it failed
            for proc in [p for p in self.procs.live if p not in running]:
                self.procs.stop(proc)
        print(
            f"  [{stack.name}] {title} done in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    # -- processes

    async def fixed_delay_emulator(self, stack: Stack, delay: float):
        """An emulator whose only scenario pays after exactly `delay` seconds (time scale 1)."""
        scen = self.tmp / f"scenarios-{delay:g}"
        scen.mkdir(exist_ok=True)
        (scen / "bench.yaml").write_text(
            f"name: bench\nresult_code: 0\ndelay: {delay:g}\ndefault: true\n"
        )
        return await self.emulator(
            stack, "--scenarios", str(scen), "--no-bundled-scenarios", "--time-scale", "1",
            "--log-level", "warning",
        )

    async def emulator(self, stack: Stack, *args: str, name: str = "emulator"):
        port = free_port()
        proc = self.procs.start(
            name, ["emulator", stack.loop, stack.http, "--port", str(port), *args]
        )
        await wait_healthy(port, proc)
        return port, proc

    async def ceiling(self):
        """The bare framework on the fastest stack installed: every stack's ratio is to it."""
        port = free_port()
        stack = self.ceiling_stack
        proc = self.procs.start("ceiling", ["ceiling", stack.loop, stack.http, str(port)])
        await wait_healthy(port, proc)
        return port, proc

    async def completed_transaction(self, port: int) -> str:
        """A push brought to its end at once (fast-forward) and queried: its CheckoutRequestID.

        On the `callbacks deferred` emulator nothing else completes during the run, so it stays
        in the journal of completed transactions, and every query of it answers 200.
        """
        token = await get_token(port)
        status, body = await call(
            port,
            "POST",
            "/mpesa/stkpush/v1/processrequest",
            push_body("254708374149", self.callback_url),
            push_headers(token),
        )
        if status != 200:
            raise PhaseError(f"a valid push was refused: {status} {body[:200]!r}")
        checkout_id = json.loads(body)["CheckoutRequestID"]
        await call(port, "POST", f"/_emulator/transactions/{checkout_id}/fast-forward")
        query = {
            "BusinessShortCode": SHORTCODE,
            "Password": PASSWORD,
            "Timestamp": TS,
            "CheckoutRequestID": checkout_id,
        }
        for _ in range(100):
            status, body = await call(
                port,
                "POST",
                "/mpesa/stkpushquery/v1/query",
                json.dumps(query).encode(),
                push_headers(token),
            )
            if status == 200 and json.loads(body)["ResultCode"] == "0":
                return checkout_id
            await asyncio.sleep(0.05)
        raise PhaseError(f"the queried transaction did not complete: {status} {body[:200]!r}")

    @property
    def callback_url(self) -> str:
        return f"http://{HOST}:{self.receiver_port}/cb"

    async def receiver_reset(self) -> None:
        await call(self.receiver_port, "POST", "/_reset")

    async def receiver_dump(self) -> list[tuple[str, float]]:
        status, body = await call(self.receiver_port, "GET", "/_dump")
        return [tuple(r) for r in json.loads(body)]  # type: ignore[misc]

    async def wait_callbacks(self, expected: int, timeout: float) -> None:
        """Until the receiver holds `expected` distinct ids, or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, body = await call(self.receiver_port, "GET", "/_stats")
            if json.loads(body)["unique"] >= expected:
                return
            await asyncio.sleep(0.1)

    # -- phases

    def launches(self, stack: Stack) -> dict[str, tuple[list[str], str]]:
        """What the start-up phase launches, each as (argv with {port}, health path)."""
        args = ["--port", "{port}", "--log-level", "warning"]
        if stack is FAST_STACK:  # what a user runs: no launcher, uvicorn picks the stack
            emulator = [sys.executable, "-m", "emulator", *args]
        else:
            emulator = [sys.executable, str(SERVERS), "emulator", stack.loop, stack.http, *args]
        floor = self.ceiling_stack
        launches = {
            "emulator": (emulator, "/_emulator/health"),
            "floor": (
                [sys.executable, str(SERVERS), "ceiling", floor.loop, floor.http, "{port}"],
                "/_emulator/health",
            ),
        }
        if self.peer is not None:
            launches["peer"] = ([self.peer.path, "--port", "{port}"], self.peer.health)
        return launches

    async def time_launch(self, name: str, argv: list[str], health: str) -> float:
        """Seconds from exec to the first 200 on `health`; the process is stopped after."""
        port = free_port()
        launched = time.monotonic()
        proc = self.procs.spawn(f"startup-{name}", [a.replace("{port}", str(port)) for a in argv])
        try:
            return await wait_healthy(port, proc, path=health) - launched
        finally:
            self.procs.stop(proc)

    async def startup(self, stack: Stack) -> None:
        """The emulator's launches alternated with the bare floor's and the peer's, the order
        turned each round: on a shared machine, neighbours in time see the same load."""
        compile_bytecode()
        launches = self.launches(stack)
        names = list(launches)
        times: dict[str, list[float]] = {name: [] for name in names}
        for n in range(self.p.startups):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                times[name].append(await self.time_launch(name, *launches[name]))

        def cell(values: list[float]) -> str:
            spread = f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
            return f"{median(values):.2f}{spread}"

        def ratio(other: str) -> str:
            if other not in times:
                return "—"
            pairs = zip(times["emulator"], times[other], strict=True)
            return f"{median([e / o for e, o in pairs]):.2f}"

        ours = times["emulator"]
        floor = f"{self.ceiling_stack.loop} + {self.ceiling_stack.http}"
        peer = self.peer.label if self.peer else "daraja-mock 1.0.5 (Flask)"
        self.put(f"Start-up to healthy, s (median of {len(ours)})", stack, cell(ours))
        self.put(f"Start-up: bare Starlette floor ({floor}), s", stack, cell(times["floor"]))
        self.put(
            f"Start-up: {peer}, s",
            stack,
            cell(times["peer"]) if "peer" in times else "not installed (see notes)",
        )
        self.put(
            "Start-up: emulator ÷ floor, ÷ peer, median of rounds (goal ≤ 1.00 to the peer)",
            stack,
            f"{ratio('floor')}, {ratio('peer')}",
        )

    async def throughput(self, stack: Stack) -> None:
        if not self.have_wrk:
            raise PhaseError("wrk is not installed (apt-get install -y wrk)")
        await self.receiver_reset()
        # time scale 0: each push ends at once and its callback is POSTed by the same process;
        # time scale 1000: outcomes fall hours later, so only the request path is measured
        emu_port, emu = await self.emulator(stack, "--time-scale", "0", "--log-level", "warning")
        deferred_port, deferred = await self.emulator(
            stack, "--time-scale", "1000", "--log-level", "warning", name="emulator-deferred"
        )
        # the time-scale-0 push load with the default --log-level info (a log line per request
        # and per callback), written to a file as a terminal or service log would be
        info_port, info = await self.emulator(
            stack, "--time-scale", "0", "--log-level", "info", name="emulator-info"
        )
        ceil_port, ceil = await self.ceiling()
        env = {
            "BENCH_TOKEN": await get_token(emu_port),
            "BENCH_TIMESTAMP": TS,
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_CALLBACK": self.callback_url,
            "BENCH_CHECKOUT_ID": "",
            "BENCH_BASIC": BASIC,
        }
        deferred_env = {
            **env,
            "BENCH_TOKEN": await get_token(deferred_port),
            "BENCH_CHECKOUT_ID": await self.completed_transaction(deferred_port),
        }
        targets = {
            "emulator": (emu_port, env),
            "deferred": (deferred_port, deferred_env),  # also answers queries and oauth
            "info": (info_port, {**env, "BENCH_TOKEN": await get_token(info_port)}),
            "ceiling": (ceil_port, deferred_env),
        }
        # (row label, wrk script, emulator target); oauth runs on the deferred emulator too, so
        # no callbacks from the time-scale-0 push load are still going out while it is measured
        rows = [
            ("processrequest", "push.lua", "emulator"),
            ("processrequest, callbacks deferred", "push.lua", "deferred"),
            ("query", "query.lua", "deferred"),
            ("oauth", "oauth.lua", "deferred"),
        ]
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        ratios: dict[str, list[float]] = {}
        c, d = self.p.connections, self.p.duration

        async def measure(script: str, target: str) -> dict[str, Any]:
            port, target_env = targets[target]
            result = await run_wrk(script, port, d, c, target_env)
            runs.setdefault((script, target), []).append(result)
            return result

        if self.p.warmup:
            for port, target_env in targets.values():
                await run_wrk("push.lua", port, self.p.warmup, c, target_env)
        # each ratio comes from an emulator run and a ceiling run back to back (in alternating
        # order), and the table shows the median of these pairs: on a shared machine, drift
        # between seconds apart is far smaller than between minutes apart
        for n in range(self.p.rounds):
            for label, script, target in rows:
                order = [target, "ceiling"] if n % 2 == 0 else ["ceiling", target]
                got = {t: await measure(script, t) for t in order}
                ratios.setdefault(label, []).append(got[target]["rps"] / got["ceiling"]["rps"])
                if label == "processrequest":  # the same load with --log-level info, right after
                    logged = await measure(script, "info")
                    ratios.setdefault("info", []).append(logged["rps"] / got[target]["rps"])
        for proc in (ceil, deferred, info, emu):
            self.procs.stop(proc)

        def lat(rs: list[dict[str, Any]]) -> str:
            p50 = median([r["p50_us"] for r in rs]) / 1000
            p99 = median([r["p99_us"] for r in rs]) / 1000
            return f"{p50:.1f} / {p99:.1f}"

        def spread(values: list[float]) -> str:
            if len(values) < 2:
                return f"{median(values):.2f}"
            return f"{median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

        for label, script, target in rows:
            emu_runs, ceil_runs = runs[(script, target)], runs[(script, "ceiling")]
            e_rps = median([r["rps"] for r in emu_runs])
            c_rps = median([r["rps"] for r in ceil_runs])
            non2xx = sum(r["non2xx"] for r in emu_runs)
            errors = sum(r["errors"] for r in emu_runs)
            total = sum(r["requests"] for r in emu_runs)
            self.put(f"{label}: emulator req/s", stack, f"{e_rps:,.0f}")
            if target != "emulator":
                ceiling = f"{self.ceiling_stack.loop} + {self.ceiling_stack.http}"
                row = f"{label}: ceiling req/s (bare Starlette, {ceiling})"
                self.put(row, stack, f"{c_rps:,.0f}")
            # the goal is the request path's: at time scale 0 each push also posts its callback
            # (two HTTP exchanges in the process), which the plain row shows without a goal
            goal = "goal ≥ 0.70" if target == "deferred" else "with its callback: no goal"
            self.put(
                f"{label}: ratio to ceiling, median of pairs ({goal})",
                stack,
                spread(ratios[label]),
            )
            self.put(
                f"{label}: p50 / p99 ms, emulator ‖ ceiling",
                stack,
                f"{lat(emu_runs)} ‖ {lat(ceil_runs)}",
            )
            self.put(
                f"{label}: non-2xx / socket errors (of requests)",
                stack,
                f"{non2xx} / {errors} (of {total:,})",
            )
            if non2xx or errors:  # every request is valid: the figure would measure error paths
                self.failures.append(
                    f"{stack.name} / {label}: {non2xx} non-2xx answers and {errors} socket errors"
                )
        info_rps = median([r["rps"] for r in runs[("push.lua", "info")]])
        self.put(
            "processrequest req/s with --log-level info (ratio to warning)",
            stack,
            f"{info_rps:,.0f} ({median(ratios['info']):.2f})",
        )

    async def end_to_end(self, stack: Stack) -> None:
        port, emu = await self.emulator(stack, "--time-scale", "0", "--log-level", "warning")
        token = await get_token(port)
        seconds = self.p.e2e_seconds
        pushes, callbacks = [], []
        accepted = lost = duplicates = refused = 0
        for block in (2, 6, 7)[: self.p.e2e_rounds]:  # distinct phones in each repetition
            await self.receiver_reset()
            run = await push_many(
                port,
                token,
                self.callback_url,
                block,
                10_000_000,
                seconds=seconds,
                connections=16,
                timeout=seconds + 60,
            )
            await self.wait_callbacks(len(run.accepted), timeout=60)
            records = await self.receiver_dump()
            received = {cid for cid, _ in records}
            last_arrival = max((t for _, t in records), default=run.last_answer)
            pushes.append(len(run.accepted) / (run.last_answer - run.first_send))
            callbacks.append(len(received) / (last_arrival - run.first_send))
            accepted += len(run.accepted)
            lost += len(set(run.accepted) - received)
            duplicates += len(records) - len(received)
            refused += sum(n for s, n in run.statuses.items() if s != 200) + run.errors
        self.procs.stop(emu)
        self.put(
            f"End-to-end: pushes accepted/s, callbacks delivered/s (median of {len(pushes)})",
            stack,
            f"{median(pushes):,.0f}, {median(callbacks):,.0f}",
        )
        self.put(
            "End-to-end: accepted, lost, duplicate, refused pushes",
            stack,
            f"{accepted:,}, {lost}, {duplicates}, {refused}",
        )
        if lost or refused:
            raise PhaseError(f"end to end: {lost} callbacks lost, {refused} pushes refused")

    async def lateness(self, stack: Stack, pending: int, rate: float, delay: float) -> None:
        port, emu = await self.fixed_delay_emulator(stack, delay)
        token = await get_token(port)
        # the first callback after start-up opens a connection and runs httpx's first-use code
        # (tens of ms): deliver one before the measured ones, so they show the steady state
        await self.completed_transaction(port)
        await self.wait_callbacks(1, timeout=10)
        await self.receiver_reset()
        run = await push_many(
            port,
            token,
            self.callback_url,
            3,
            pending,
            rate=rate,
            connections=8,
            timeout=pending / rate + delay,
        )
        _, health = await call(port, "GET", "/_emulator/health")
        at_once = json.loads(health)["pending"]
        if len(run.accepted) != pending:
            raise PhaseError(f"{pending - len(run.accepted)} pushes refused: {run.statuses}")
        # the emulator's CPU while the callbacks fall due: from the first due time to the last
        await asyncio.sleep(max(0.0, run.first_send + delay - time.monotonic()))
        cpu0, t0 = cpu_seconds(emu.pid), time.monotonic()
        await self.wait_callbacks(pending, timeout=pending / rate + 30)
        cpu = (cpu_seconds(emu.pid) - cpu0) / (time.monotonic() - t0)
        records = await self.receiver_dump()
        self.procs.stop(emu)
        late = [
            (arrived - (run.accepted[cid] + delay)) * 1000
            for cid, arrived in records
            if cid in run.accepted
        ]
        lost = pending - len({cid for cid, _ in records if cid in run.accepted})
        self.put(
            f"Callback lateness at {pending:,} pending: p50 / p99 / max ms",
            stack,
            f"{percentile(late, 50):.1f} / {percentile(late, 99):.1f} / {max(late):.1f}",
        )
        self.put(
            f"  ({pending:,} pending) pushes/s, pending at once, lost, emulator CPU",
            stack,
            f"{rate:g}/s, {at_once:,}, {lost}, {cpu:.0%}",
        )

    async def memory(self, stack: Stack) -> None:
        port, emu = await self.fixed_delay_emulator(stack, 3600)
        token = await get_token(port)
        warm = 200  # warm every code path before the baseline
        run = await push_many(port, token, self.callback_url, 4, warm, connections=16)
        # one of them completed at once: its success loads what completions load (customers'
        # names, which otherwise load in a thread after start-up, maybe after the baseline)
        await call(port, "POST", f"/_emulator/transactions/{next(iter(run.accepted))}/fast-forward")
        await call(port, "GET", "/_emulator/health")
        base = proc_status(emu.pid)["VmRSS"]
        done = warm
        for target in self.p.memory:
            await push_many(
                port,
                token,
                self.callback_url,
                4,
                target - done,
                connections=16,
                start_index=done,
                timeout=600,
            )
            done = target
            _, health = await call(port, "GET", "/_emulator/health")
            pending = json.loads(health)["pending"]
            if pending != target - 1:  # one warm push was completed
                raise PhaseError(f"{pending} pending, expected {target - 1}")
            status = proc_status(emu.pid)
            per = (status["VmRSS"] - base) / (target - warm)
            self.put(
                f"Memory at {target:,} pending: RSS / peak MB, bytes per pending",
                stack,
                f"{status['VmRSS'] / 2**20:.0f} / {status['VmHWM'] / 2**20:.0f}, {per:,.0f}",
            )
        self.procs.stop(emu)

    async def run(self) -> None:
        port = free_port()
        receiver = self.procs.start("receiver", ["receiver", str(port)])
        self.receiver_port = port
        deadline = time.monotonic() + 15
        while True:
            try:
                await call(port, "GET", "/_stats")
                break
            except OSError as exc:
                if time.monotonic() > deadline or receiver.poll() is not None:
                    raise PhaseError(f"receiver did not start:\n{log_tail(receiver)}") from exc
                await asyncio.sleep(0.02)
        for s in self.stacks:
            await self.phase("start-up", s, lambda s=s: self.startup(s))
            await self.phase("throughput (wrk)", s, lambda s=s: self.throughput(s))
            await self.phase("end-to-end", s, lambda s=s: self.end_to_end(s))
            for n, rate, delay in self.p.lateness:
                await self.phase(
                    f"callback lateness, {n:,} pending",
                    s,
                    lambda s=s, n=n, r=rate, d=delay: self.lateness(s, n, r, d),
                )
            await self.phase("memory", s, lambda s=s: self.memory(s))


# ----------------------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for dist in ("uvicorn", "starlette", "orjson", "httpx", "uvloop", "httptools"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
    wrk = "wrk not installed"
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
        wrk = (out.stdout + out.stderr).split(" Copyright")[0].strip() or "wrk"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}\n"
        f"Software: {', '.join(versions)}; {wrk}\n"
        f"Load average at start: {load}"
    )


def table(bench: Bench) -> str:
    names = [s.name for s in bench.stacks]
    rows = [["Measure", *names]]
    for label, cells in bench.results.items():
        rows.append([label, *(cells.get(n, "—") for n in names)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def stacks_for(choice: str) -> tuple[list[Stack], Stack, str]:
    """The stacks to measure, the ceiling's stack, and a note for the report."""
    fast = all(importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools"))
    if not fast:  # a platform without them (Windows, PyPy): only asyncio + h11 exists there
        note = (
            "uvloop + httptools not installed (this platform has no wheels?): the emulator and "
            "the ceiling were measured on asyncio + h11 only"
        )
        if choice in ("default", "fast"):
            raise SystemExit(f"bench: {note}")
        return [SLOW_STACK], SLOW_STACK, note
    if choice in ("default", "fast"):  # "fast": the old name of the default stack
        return [FAST_STACK], FAST_STACK, ""
    if choice == "asyncio":
        return [SLOW_STACK], FAST_STACK, ""
    return [FAST_STACK, SLOW_STACK], FAST_STACK, ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced run, under a minute")
    mode.add_argument("--smoke", action="store_true", help="tiny run that checks the script works")
    parser.add_argument(
        "--stacks",
        choices=["auto", "default", "asyncio", "fast"],
        help="auto: the default stack (uvloop+httptools) and asyncio+h11 beside it (default for "
        "full runs); default (or fast): uvloop+httptools only (default for --quick and --smoke); "
        "asyncio: asyncio+h11 only. The ceiling is always uvloop+httptools",
    )
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, help="wrk runs per figure (median)")
    parser.add_argument("--connections", type=int, help="wrk connections")
    parser.add_argument(
        "--peer-mock",
        metavar="PATH",
        help="daraja-mock's executable, whose start-up is timed beside the emulator's "
        "(default: daraja-mock on PATH; pip install daraja-mock==1.0.5 into a venv of its own)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    for name in ("duration", "rounds", "connections"):
        if getattr(args, name) is not None:
            setattr(profile, name, max(1, getattr(args, name)))
    choice = args.stacks or ("auto" if profile.name == "full" else "default")
    stacks, ceiling_stack, stack_note = stacks_for(choice)
    have_wrk = shutil.which("wrk") is not None
    peer = find_peer(args.peer_mock)

    def on_signal(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="daraja-bench-") as tmp:
        bench = Bench(profile, stacks, Path(tmp), have_wrk, ceiling_stack, peer)
        print(
            f"bench: {profile.name} run; process logs in {tmp} while it runs (deleted at the end)",
            file=sys.stderr,
            flush=True,
        )
        try:
            asyncio.run(bench.run())
        except KeyboardInterrupt:
            bench.failures.append("interrupted")
        except Exception as exc:
            bench.failures.append(f"aborted: {exc}")
        finally:
            bench.procs.stop_all()
        p = profile
        print(
            f"# Daraja Emulator benchmark ({p.name}, {time.strftime('%Y-%m-%d %H:%M')}, "
            f"{time.monotonic() - started:.0f} s)"
        )
        print(machine())
        print(
            f"Load: wrk -t1 -c{p.connections}, {p.rounds} x {p.duration} s per figure "
            f"(median){', after ' + str(p.warmup) + ' s warm-up' if p.warmup else ''}; "
            "emulator --log-level warning, --time-scale 0 (each push's callback POSTed at once to "
            "a local receiver) or 1000 for 'callbacks deferred' (request path only)\n"
        )
        print(table(bench))
        print()
        notes = [
            f"ceiling: a bare Starlette endpoint on uvicorn + {ceiling_stack.loop} + "
            f"{ceiling_stack.http} (the same for every column) that reads the body and returns "
            "the emulator's JSON; at --time-scale 0 each emulator push also costs a callback POST "
            "in the same process.",
            "lateness: callback arrival at the receiver minus (push sent + scenario delay), so "
            "it includes the push's own round trip (an upper bound); time-scale 1.",
            "memory: VmRSS of the emulator after N pushes to distinct phones, pending for an "
            "hour, minus VmRSS after 200; peak is VmHWM.",
            "start-up: exec to the first 200 on the health path (daraja-mock's /health), polled "
            "every 5 ms; the emulator (`python -m emulator --log-level warning`), the floor (the "
            "ceiling's app on the same uvicorn call) and the peer launched in turn, the order "
            "turned each round; ratios are the median of each round's.",
        ]
        if stack_note:
            notes.append(stack_note)
        if not have_wrk:
            notes.append("wrk not installed (apt-get install -y wrk): throughput not measured")
        if peer is None:
            notes.append(f"daraja-mock not found, its start-up not measured: {PEER_INSTALL}.")
        for note in notes:
            print(f"- {note}")
        for failure in bench.failures:
            print(f"- FAILED {failure}")
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
