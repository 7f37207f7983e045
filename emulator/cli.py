"""The daraja-emulator command. Every flag is also a DARAJA_* environment variable.

The variable's name is the flag's, upper-cased, dashes as underscores: --time-scale is
DARAJA_TIME_SCALE; repeatable flags take comma-separated values (DARAJA_SHORTCODE=a:b,c:d).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from emulator._version import __version__
from emulator.config import DEFAULT_PORT, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, Settings

_TRUE = {"1", "true", "yes", "on"}


def _env_name(flag: str) -> str:
    return "DARAJA_" + flag.lstrip("-").replace("-", "_").upper()


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY:VALUE, got {text!r}")
    return key, value


def _host_map(text: str) -> tuple[str, str]:
    from emulator.kernel.hostmap import parse_host_map

    try:
        return parse_host_map(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _time_scale(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


class _Parser:
    """Adds flags whose default comes from the matching DARAJA_* variable."""

    def __init__(self, parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
        self.parser = parser
        self.env = env

    def add(
        self,
        flag: str,
        help: str,
        type: Callable[[str], object] = str,
        default: object = None,
        repeat: bool = False,
        **kw: object,
    ) -> None:
        name = _env_name(flag)
        raw = self.env.get(name)
        if raw is not None and raw != "":
            default = (
                [type(v.strip()) for v in raw.split(",") if v.strip()] if repeat else type(raw)
            )
        action = "append" if repeat else "store"
        self.parser.add_argument(
            flag, type=type, default=default, action=action, help=f"{help} [env {name}]", **kw
        )  # type: ignore[arg-type]

    def switch(self, flag: str, help: str) -> None:
        name = _env_name(flag)
        default = self.env.get(name, "").strip().lower() in _TRUE
        self.parser.add_argument(
            flag, action="store_true", default=default, help=f"{help} [env {name}=1]"
        )


def serve_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daraja-emulator",
        description="A local, offline stand-in for Safaricom's M-Pesa Daraja API (STK Push). "
        "Subcommands: check-scenarios DIR (validate scenario files); to steer a running "
        "emulator: scenarios, default, queue, transactions, show, decide, fast-forward, follow, "
        "reset (see daraja-emulator SUBCOMMAND --help).",
    )
    p = _Parser(parser, env)
    p.add("--host", "address to listen on", default="127.0.0.1")
    p.add("--port", f"port to listen on (default {DEFAULT_PORT})", type=int, default=DEFAULT_PORT)
    p.add(
        "--scenarios",
        "folder of your scenario YAML files (repeatable)",
        type=Path,
        repeat=True,
        metavar="DIR",
    )
    p.switch("--no-bundled-scenarios", "use only your own scenarios, not the bundled ones")
    p.add("--default-scenario", "scenario for pushes no other scenario matches", metavar="NAME")
    p.add(
        "--time-scale",
        "multiply every scenario delay by F (0 = immediate)",
        type=_time_scale,
        default=1.0,
        metavar="F",
    )
    p.add("--seed", "make ids, receipts and delays reproducible", type=int, metavar="N")
    p.add(
        "--app",
        "accept only these consumer credentials (repeatable; default: any)",
        type=_pair,
        repeat=True,
        metavar="KEY:SECRET",
    )
    p.add(
        "--shortcode",
        f"register a shortcode and its passkey (repeatable; {SANDBOX_SHORTCODE} is always known)",
        type=_pair,
        repeat=True,
        metavar="CODE:PASSKEY",
    )
    p.add("--config", "YAML file with 'apps' and 'shortcodes' mappings", type=Path, metavar="FILE")
    p.add(
        "--pending-query",
        "how a query answers while pending: modern (200, ResultCode 4999) "
        "or legacy (500, 500.001.1001)",
        choices=["modern", "legacy"],
        default="modern",
    )
    p.add(
        "--query-wording",
        "query ResponseDescription: typo ('successsfully', as on the wire) or docs",
        choices=["typo", "docs"],
        default="typo",
    )
    p.switch("--require-https", "reject plain-http CallBackURLs, as production does")
    p.add(
        "--callback-timeout",
        "seconds to wait for a callback receiver",
        type=float,
        default=10.0,
        metavar="S",
    )
    p.add(
        "--callback-host-map",
        "post callbacks for HOST to NEWHOST instead (repeatable), e.g. "
        "localhost=host.docker.internal when the emulator runs in a container",
        type=_host_map,
        repeat=True,
        metavar="HOST=NEWHOST",
    )
    p.switch("--tls", "serve HTTPS with a locally made CA and certificate (needs the tls extra)")
    p.add(
        "--tls-dir",
        "where --tls keeps its CA and certificate (default ~/.daraja-emulator/tls)",
        type=Path,
        metavar="DIR",
    )
    p.add(
        "--journal-size",
        "completed transactions kept for queries and inspection",
        type=int,
        default=10_000,
        metavar="N",
    )
    p.add(
        "--max-body-bytes",
        "larger request bodies get a Daraja-shaped 400",
        type=int,
        default=64 * 1024,
        metavar="N",
    )
    p.add(
        "--rate-limit",
        "requests per second per consumer key; more get Daraja's spike-arrest answer",
        type=int,
        metavar="N",
    )
    p.add(
        "--state",
        "keep transactions and tokens in this SQLite file across restarts (default: memory)",
        type=Path,
        metavar="FILE",
    )
    p.add(
        "--admin-token",
        "require this token (X-Admin-Token header) on the admin API",
        metavar="TOKEN",
    )
    p.add(
        "--log-level",
        "debug, info, warning or error",
        default="info",
        choices=["debug", "info", "warning", "error"],
    )
    parser.add_argument("--version", action="version", version=f"daraja-emulator {__version__}")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags, merging --config, --app and --shortcode."""
    from emulator.configfile import load_config_file

    apps: dict[str, str] = {}
    shortcodes = {SANDBOX_SHORTCODE: SANDBOX_PASSKEY}
    if args.config:
        file_apps, file_codes = load_config_file(args.config)
        apps.update(file_apps)
        shortcodes.update(file_codes)
    apps.update(dict(args.app or ()))
    shortcodes.update(dict(args.shortcode or ()))
    return Settings(
        host=args.host,
        port=args.port,
        scenario_dirs=tuple(args.scenarios or ()),
        bundled_scenarios=not args.no_bundled_scenarios,
        default_scenario=args.default_scenario,
        time_scale=args.time_scale,
        seed=args.seed,
        apps=apps,
        shortcodes=shortcodes,
        pending_query=args.pending_query,
        query_wording=args.query_wording,
        require_https=args.require_https,
        callback_timeout=args.callback_timeout,
        callback_host_map=dict(args.callback_host_map or ()),
        tls=args.tls,
        tls_dir=args.tls_dir,
        journal_size=args.journal_size,
        max_body_bytes=args.max_body_bytes,
        admin_token=args.admin_token,
        state_file=args.state,
        rate_limit=args.rate_limit,
        log_level=args.log_level,
    )


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # we log each callback attempt ourselves


def tls_options(settings: Settings) -> dict[str, str]:
    """uvicorn's ssl_* options for --tls, making the CA and certificate on first use."""
    from emulator.tls import ensure_tls, server_names

    files = ensure_tls(settings.tls_dir, server_names(settings.host))
    logging.getLogger("emulator").info(
        "TLS: clients must trust the CA %s (SSL_CERT_FILE / REQUESTS_CA_BUNDLE; "
        "with the public CAs as well: %s)",
        files.ca,
        files.bundle,
    )
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}


def serve(argv: Sequence[str], env: Mapping[str, str]) -> int:
    import uvicorn

    from emulator import gcpolicy
    from emulator.app import create_app
    from emulator.configfile import ConfigFileError
    from emulator.scenario.engine import UnknownScenario
    from emulator.scenario.loader import ScenarioError
    from emulator.tls import TlsUnavailable

    args = serve_parser(env).parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = settings_from(args)
        app = create_app(settings)
        ssl_options = tls_options(settings) if settings.tls else {}
    except (ScenarioError, ConfigFileError, TlsUnavailable) as exc:
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 2
    except UnknownScenario as exc:
        print(f"daraja-emulator: unknown default scenario {exc}", file=sys.stderr)
        return 2
    emu = app.state.emulator
    logging.getLogger("emulator").info(
        "Daraja Emulator %s on %s://%s:%s with %d scenarios (default '%s'), time scale %g",
        __version__,
        "https" if settings.tls else "http",
        settings.host,
        settings.port,
        len(emu.scenarios.by_name),
        emu.scenarios.default.name,
        settings.time_scale,
    )
    gcpolicy.apply()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        log_config=None,
        **ssl_options,  # type: ignore[arg-type]
    )
    return 0


def _file_errors(dirs: Sequence[Path]) -> list[Exception]:
    """Each scenario file checked on its own, so one run names every broken file."""
    from emulator.scenario.loader import ScenarioError, load_file

    errors: list[Exception] = []
    for folder in dirs:
        if not folder.is_dir():
            errors.append(ScenarioError(folder, None, None, "scenario folder does not exist"))
            continue
        for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")):
            try:
                load_file(path)
            except ScenarioError as exc:
                errors.append(exc)
    return errors


def check_scenarios(argv: Sequence[str]) -> int:
    """Validate scenario folders without starting a server; non-zero on any error."""
    from emulator.scenario.engine import ScenarioSet
    from emulator.scenario.loader import ScenarioError, load_scenarios

    parser = argparse.ArgumentParser(prog="daraja-emulator check-scenarios")
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument("--no-bundled-scenarios", action="store_true")
    args = parser.parse_args(argv)
    errors = _file_errors(args.dirs)  # every broken file, not only the first
    if not errors:
        try:
            scenarios = load_scenarios(args.dirs, include_bundled=not args.no_bundled_scenarios)
            chosen = ScenarioSet(scenarios)
        except ScenarioError as exc:
            errors = [exc]
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return 1
    for s in scenarios:
        what = f"fault {s.fault.kind.value}" if s.fault else f"result {s.result_code}"
        print(f"ok  {s.name:<22} {what:<22} {s.source}")
    print(f"{len(scenarios)} scenarios valid; default '{chosen.default.name}'")
    return 0


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if argv and argv[0] == "check-scenarios":
        return check_scenarios(argv[1:])
    from emulator import qa

    if argv and argv[0] in qa.COMMANDS:
        return qa.main(argv, env)
    return serve(argv, env)
