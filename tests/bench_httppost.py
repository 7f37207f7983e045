"""Micro benchmark of the callback client: CPU per POST to a keep-alive receiver on 127.0.0.1.

Not collected by pytest (the name does not start with test_). The receiver runs in a child
process so that only the client's CPU is counted (time.process_time of this process).

    python tests/bench_httppost.py [--posts 5000] [--runs 5] [--concurrency 1 32]
                                   [--loop asyncio|uvloop] [--parser h11]
                                   [--module path/to/httppost.py]

--module loads another version of httppost.py (e.g. `git show HEAD~3:emulator/httppost.py`)
so two versions can be compared interleaved on the same machine; --parser h11 makes a version
that has the choice parse with h11 (the fallback when httptools is missing).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import multiprocessing
import ssl
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ANSWER = (
    b"HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-type: application/json\r\ncontent-length: 40\r\n\r\n"
    b'{"ResultCode":0,"ResultDesc":"Accepted"}'
)
BODY = b'{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":' \
    b'"ws_CO_191220191020363925","ResultCode":0,"ResultDesc":"The service request is ' \
    b'processed successfully."}}}'
HEADERS = "Content-Type: application/json\r\nUser-Agent: Daraja-Emulator\r\n"


def _receiver(ready: Any, stop_after: float) -> None:
    """A minimal keep-alive HTTP/1.1 receiver: answers every request it reads in full."""

    class Answering(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while True:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
                if len(self.buf) < end + 4 + length:
                    return
                self.buf = self.buf[end + 4 + length:]
                self.transport.write(ANSWER)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answering, "127.0.0.1", 0)
        ready.send(server.sockets[0].getsockname()[1])
        await asyncio.sleep(stop_after)  # bounded: the parent kills it sooner

    asyncio.run(main())


def _load(path: str | None) -> ModuleType:
    if path is None:
        import emulator.kernel.httppost as module

        return module
    spec = importlib.util.spec_from_file_location("httppost_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def _run(module: ModuleType, url: str, posts: int, concurrency: int) -> float:
    """CPU seconds of this process per post, after a warm-up."""
    poster = module.Poster(10.0, ssl.create_default_context())
    for _ in range(50):
        await poster.post(url, BODY, HEADERS)
    per_task = posts // concurrency

    async def worker() -> None:
        for _ in range(per_task):
            answer = await poster.post(url, BODY, HEADERS)
            assert answer.status == 200

    cpu = time.process_time()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), 120)
    cpu = time.process_time() - cpu
    await poster.aclose()
    return cpu / (per_task * concurrency)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--parser", choices=["h11"], help="parse with h11 where there is a choice")
    parser.add_argument("--module", action="append", help="httppost.py to load (repeatable)")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.install()
    modules = {m: _load(m) for m in (args.module or [None])}
    for module in modules.values():
        if args.parser == "h11" and hasattr(module, "_h11_parser"):
            module._new_parser = module._h11_parser
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=_receiver, args=(theirs, 600.0), daemon=True)
    child.start()
    try:
        port = ours.recv()
        url = f"http://127.0.0.1:{port}/cb"
        for concurrency in args.concurrency:
            results: dict[str | None, list[float]] = {m: [] for m in modules}
            for _ in range(args.runs):  # interleaved, so load from others hits all alike
                for name, module in modules.items():
                    results[name].append(asyncio.run(_run(module, url, args.posts, concurrency)))
            for name, runs in results.items():
                label = Path(name).name if name else "emulator.kernel.httppost"
                print(
                    f"{args.loop:7} concurrency {concurrency:3} {label:24} median "
                    f"{statistics.median(runs) * 1e6:6.1f} us CPU/post  "
                    f"(runs: {', '.join(f'{r * 1e6:.1f}' for r in runs)})"
                )
    finally:
        child.kill()
        child.join(5)


if __name__ == "__main__":
    main()
