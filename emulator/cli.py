"""The daraja-emulator command. Every flag is also a DARAJA_* environment variable.

The variable's name is the flag's, upper-cased, dashes as underscores: --time-scale is
DARAJA_TIME_SCALE; repeatable flags take comma-separated values (DARAJA_SHORTCODE=a:b,c:d).
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import logging
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator._version import __version__

if TYPE_CHECKING:  # the settings (and msgspec) are imported by serve(), with the collector paused
    from starlette.applications import Starlette

    from emulator.config import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env_name(flag: str) -> str:
    return "DARAJA_" + flag.lstrip("-").replace("-", "_").upper()


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """argparse's type: the setting's parser, its ValueError shown as argparse's own error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def _add(parser: argparse.ArgumentParser, field: str, meta: Mapping[str, Any],
         env: Mapping[str, str]) -> None:
    """One Settings field as a flag whose default comes from its DARAJA_* variable."""
    flag, name = meta["flag"], _env_name(meta["flag"])
    if meta["switch"]:
        raw_switch = env.get(name, "").strip().lower()
        if raw_switch and raw_switch not in _TRUE | _FALSE:
            parser.error(f"{name}: expected 1/true/yes/on or 0/false/no/off, got {raw_switch!r}")
        default = raw_switch in _TRUE
        parser.add_argument(flag, action="store_true", default=default, dest=field,
                            help=f"{meta['help']} [env {name}=1]")
        return
    convert = _argument_type(meta["parse"])
    raw = env.get(name)
    default: Any = None if meta["repeat"] else meta["default"]
    if raw is not None and raw != "" and meta["choices"] and raw not in meta["choices"]:
        parser.error(f"{name}: must be one of {', '.join(meta['choices'])}, got {raw!r}")
    if raw is not None and raw != "":
        try:
            default = ([convert(v.strip()) for v in raw.split(",") if v.strip()]
                       if meta["repeat"] else convert(raw))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{name}: {exc}")
    parser.add_argument(
        flag, type=convert, default=default, dest=field,
        action="append" if meta["repeat"] else "store", choices=meta["choices"],
        metavar=meta["metavar"], help=f"{meta['help']} [env {name}]")


def _help_width() -> int:
    """The width argparse's HelpFormatter would work out for itself."""
    return shutil.get_terminal_size().columns - 2


def serve_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    from emulator.config import FLAGS

    parser = argparse.ArgumentParser(
        prog="daraja-emulator",
        # argparse makes a help formatter for every flag added (to check its metavar), and
        # each asks the terminal its width: asked once here instead (a millisecond of start-up)
        formatter_class=functools.partial(argparse.HelpFormatter, width=_help_width()),
        description="A local, offline stand-in for Safaricom's M-Pesa Daraja API (STK Push). "
        "Subcommands: check-scenarios DIR (validate scenario files); to steer a running "
        "emulator: scenarios, default, queue, transactions, show, decide, fast-forward, follow, "
        "fault, requests, expire-tokens, reset, balance, c2b-pay, c2b-payments, results, "
        "result, queue-initiator, fast-forward-result, unlock, certificate "
        "(see daraja-emulator SUBCOMMAND --help).",
    )
    for field, meta in FLAGS.items():
        _add(parser, field, meta, env)
    parser.add_argument("--version", action="version", version=f"daraja-emulator {__version__}")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags; --config, --app and --shortcode merge (flags last)."""
    from emulator.config import FLAGS, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, Settings
    from emulator.configfile import load_config_file

    values: dict[str, Any] = {}
    for field, meta in FLAGS.items():
        value = getattr(args, field)
        if meta["switch"] and field == "bundled_scenarios":
            value = not value  # the flag says --no-bundled-scenarios
        elif meta["repeat"]:
            items = value or ()
            value = dict(items) if field in _MAPPINGS else tuple(items)
        values[field] = value
    apps: dict[str, str] = {}
    shortcodes = {SANDBOX_SHORTCODE: SANDBOX_PASSKEY}
    if args.config_file:
        file_apps, file_codes = load_config_file(args.config_file)
        apps.update(file_apps)
        shortcodes.update(file_codes)
    values["apps"] = {**apps, **values["apps"]}
    values["shortcodes"] = {**shortcodes, **values["shortcodes"]}
    return Settings(**values)


_MAPPINGS = frozenset({"apps", "shortcodes", "callback_host_map"})  # KEY:VALUE repeatables


def server_stack() -> str:
    """The event loop and HTTP parser uvicorn picks ("auto"): uvloop and httptools when they
    import (the default install has both where they exist), else asyncio and h11. The same
    imports uvicorn's "auto" makes a moment later, so asking costs nothing it would not."""
    try:
        import uvloop  # noqa: F401
        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401
        parser = "httptools"
    except ImportError:
        parser = "h11"
    return f"{loop} + {parser}"


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # we log each callback attempt ourselves


def tls_options(settings: Settings) -> dict[str, str]:
    """uvicorn's ssl_* options for --tls, making the CA and certificate on first use; a
    ValueError when they cannot be made (the `cryptography` package missing)."""
    from emulator.tls import TlsUnavailable, ensure_tls, server_names  # only with --tls

    try:
        files = ensure_tls(settings.tls_dir, server_names(settings.host))
    except TlsUnavailable as exc:
        raise ValueError(str(exc)) from None
    logging.getLogger("emulator").info(
        "TLS: clients must trust the CA %s (SSL_CERT_FILE / REQUESTS_CA_BUNDLE; "
        "with the public CAs as well: %s)",
        files.ca,
        files.bundle,
    )
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the port on this machine (localhost, 127.x, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def warn_if_exposed(settings: Settings) -> None:
    """A loud WARNING when the admin API is offered off loopback without a token: anyone who can
    reach the port may steer the emulator and read back what callback hosts answered."""
    if settings.admin_token or is_loopback(settings.host):
        return
    logging.getLogger("emulator").warning(
        "listening on %s without --admin-token: anyone who can reach port %s can use the admin "
        "API (/_emulator/: reset, faults, every request and callback with what the receiver "
        "answered). Set --admin-token (DARAJA_ADMIN_TOKEN), publish the port on loopback only "
        "(docker -p 127.0.0.1:%s:%s), and consider --callback-allow HOST",
        settings.host, settings.port, settings.port, settings.port,
    )


def serve(argv: Sequence[str], env: Mapping[str, str]) -> int:
    from emulator import gcpolicy

    with gcpolicy.paused():  # start-up builds what the process keeps: nothing to collect
        import uvicorn

        from emulator.kernel.slowclients import server_limits

        started = _start(argv, env)
        if isinstance(started, int):
            return started
        gcpolicy.apply()
    settings, app, ssl_options = started
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        log_config=None,
        # what "auto" would find out, said: an ASGI 3 app with a lifespan and no websockets
        # (the dashboard's live feed is server-sent events); "auto" would import websockets or
        # wsproto where installed, some 40-55 ms of start-up for websockets
        interface="asgi3",
        lifespan="on",
        ws="none",
        **server_limits(settings.body_timeout),  # slow or idle clients are timed out
        **ssl_options,  # type: ignore[arg-type]
    )
    return 0


def _start(
    argv: Sequence[str], env: Mapping[str, str]
) -> tuple[Settings, Starlette, dict[str, str]] | int:
    """Settings, the app and TLS options, or the exit status when they cannot be had."""
    from emulator.app import create_app
    from emulator.configfile import ConfigFileError
    from emulator.kernel.persistence import StateFileError
    from emulator.scenario.engine import UnknownScenario
    from emulator.scenario.loader import ScenarioError

    args = serve_parser(env).parse_args(argv)  # a blank --admin-token is refused here
    if args.admin_token is None and env.get("DARAJA_ADMIN_TOKEN") is not None:
        print("daraja-emulator: DARAJA_ADMIN_TOKEN is set but empty, which would leave the admin "
              "API open: give it a token, or unset it for no token", file=sys.stderr)
        return 2  # an empty variable means 'unset' for every other flag, not for this one
    configure_logging(args.log_level)
    try:
        settings = settings_from(args)
        app = create_app(settings)
        ssl_options = tls_options(settings) if settings.tls else {}
    except (ScenarioError, ConfigFileError, StateFileError) as exc:
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 2
    except UnknownScenario as exc:
        print(f"daraja-emulator: unknown default scenario {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # Settings refusing a combination no single flag's parser sees,
        # or --tls without the package it needs
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 2
    emu = app.state.emulator
    log = logging.getLogger("emulator")
    if log.isEnabledFor(logging.INFO):  # the stack's name is not worked out for nobody
        log.info(
            "Daraja Emulator %s on %s://%s:%s with %d scenarios (default '%s'), time scale %g; "
            "serving on %s",
            __version__,
            "https" if settings.tls else "http",
            settings.host,
            settings.port,
            len(emu.scenarios.by_name),
            emu.scenarios.default.name,
            settings.time_scale,
            server_stack(),
        )
    warn_if_exposed(settings)
    return settings, app, ssl_options


def _file_errors(dirs: Sequence[Path]) -> list[Exception]:
    """Each scenario file checked on its own, so one run names every broken file."""
    from emulator.scenario.files import scenario_files
    from emulator.scenario.loader import ScenarioError, load_file

    errors: list[Exception] = []
    for folder in dirs:
        if not folder.is_dir():
            errors.append(ScenarioError(folder, None, None, "scenario folder does not exist"))
            continue
        for path in scenario_files(folder):  # the files the loader reads, in its order
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
    width = max([22, *(len(s.name) for s in scenarios)])  # columns stay aligned
    for s in scenarios:
        what = f"fault {s.fault.kind.value}" if s.fault else f"result {s.result_code}"
        print(f"ok  {s.name:<{width}} {what:<22} {s.source}")
    print(f"{len(scenarios)} scenarios valid; default '{chosen.default.name}'")
    return 0


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if argv and argv[0] == "check-scenarios":
        return check_scenarios(argv[1:])
    if argv and not argv[0].startswith("-"):  # a subcommand, maybe: serving never imports qa
        from emulator import qa  # (and its httpx client: a tenth of a second of start-up)

        if argv[0] in qa.COMMANDS:
            return qa.main(argv, env)
    return serve(argv, env)
