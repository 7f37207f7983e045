"""Settings: the single source of every flag, DARAJA_* variable, default and help text.

Each field is declared with its flag and help (`_f`, `_fm`, or `_plain` for a field without a
flag); `cli.py` builds the parser from `FLAGS`, so a new setting is one field here. Nothing
reads the environment at import time: the command builds Settings and passes them in.

A msgspec Struct, not a dataclass: a 37-field frozen dataclass compiled its generated methods
at every start-up (4 ms).
"""

from __future__ import annotations

import ipaddress
import math
import operator
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import msgspec
from msgspec.structs import force_setattr

from emulator.kernel.hostmap import parse_host_map

# The public sandbox shortcode and its published Lipa Na M-Pesa passkey.
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
DEFAULT_PORT = 8765  # clear of 8000/8080/3000/5000, which shop frameworks take
MAX_TIME_SCALE = 1000.0  # a thousandfold slow-down is more than any test needs
MAX_BALANCE = 10**12  # shillings: a trillion is more than any test needs, and keeps numbers sane

PendingQuery = Literal["modern", "legacy"]
NameFields = Literal["auto", "first", "all"]
QueryWording = Literal["typo", "docs"]
QrWording = Literal["2026", "2025"]


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


def pair(text: str) -> tuple[str, str]:
    """'KEY:VALUE' -> (KEY, VALUE), for --app and --shortcode."""
    key, sep, value = text.partition(":")
    if not sep or not key or not value:
        raise ValueError(f"expected KEY:VALUE, got {text!r}")
    return key, value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"must be a number, got {text!r}") from None


def whole(text: str) -> int:
    """A whole number, said plainly when it is not one."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, got {text!r}") from None


def port(text: str) -> int:
    value = whole(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, got {value}")
    return value


def time_scale(text: str) -> float:
    value = _number(text)
    if not math.isfinite(value) or not 0 <= value <= MAX_TIME_SCALE:
        raise ValueError(f"must be a number from 0 to {MAX_TIME_SCALE:g}")
    return value


def positive_int(text: str) -> int:
    value = whole(text)
    if value < 1:
        raise ValueError("must be a whole number >= 1")
    return value


def shillings(text: str) -> int:
    """A whole number of shillings from 0 to MAX_BALANCE (balances)."""
    value = whole(text.replace(",", "").replace("_", ""))
    if not 0 <= value <= MAX_BALANCE:
        raise ValueError(f"must be a whole number of shillings from 0 to {MAX_BALANCE:,}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number > 0")
    return value


def nonblank(text: str) -> str:
    """A blank token would silently leave the admin API open: refuse it."""
    if not text.strip():
        raise ValueError("must not be empty or blank (leave the flag out for no token)")
    return text


def host_name(text: str) -> str:
    """A host name for --allowed-host / --callback-allow: lower case, no port, path or spaces."""
    name = text.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]  # [::1] -> ::1
    bad = not name or any(c in name for c in "/@ \t") or (name != "*" and "*" in name)
    if not bad and ":" in name:
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            bad = True  # a port, which the check ignores anyway
    if bad:
        raise ValueError(f"expected a host name such as shop or 10.0.0.5 (no port), got {text!r}")
    return name


def opt(
    flag: str,
    help: str,
    *,
    parse: Callable[[str], Any] = str,
    metavar: str | None = None,
    repeat: bool = False,
    switch: bool = False,
    choices: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """A field's command-line face: its flag (the DARAJA_* variable follows from it)."""
    return {"flag": flag, "help": help, "parse": parse, "metavar": metavar, "repeat": repeat,
            "switch": switch, "choices": choices}


# each Settings field's flag (None: no flag), in the order the class body declares them
_DECLARED: list[dict[str, Any] | None] = []


def _f(default: Any, **meta: Any) -> Any:
    _DECLARED.append({**opt(**meta), "default": default})
    return default


def _fm(factory: Callable[[], Any], **meta: Any) -> Any:
    _DECLARED.append({**opt(**meta), "default": None})
    return msgspec.field(default_factory=factory)


def _plain(default: Any) -> Any:
    _DECLARED.append(None)
    return default


class Settings(msgspec.Struct, frozen=True):
    """Everything the emulator can be told; each field has a CLI flag and a DARAJA_* variable."""

    host: str = _f("127.0.0.1", flag="--host", help="address to listen on (default 127.0.0.1)")
    port: int = _f(DEFAULT_PORT, flag="--port", parse=port,
                   help=f"port to listen on (default {DEFAULT_PORT})")
    scenario_dirs: tuple[Path, ...] = _f(
        (), flag="--scenarios", parse=Path, repeat=True, metavar="DIR",
        help="folder of your scenario YAML files (repeatable)")
    bundled_scenarios: bool = _f(
        True, flag="--no-bundled-scenarios", switch=True,
        help="use only your own scenarios, not the bundled ones")
    default_scenario: str | None = _f(
        None, flag="--default-scenario", metavar="NAME",
        help="scenario for pushes no other scenario matches")
    time_scale: float = _f(
        1.0, flag="--time-scale", parse=time_scale, metavar="F",
        help="multiply every scenario delay by F (0 = immediate)")
    seed: int | None = _f(None, flag="--seed", parse=whole, metavar="N",
                          help="make ids, receipts and delays reproducible")
    apps: Mapping[str, str] = _fm(
        dict, flag="--app", parse=pair, repeat=True, metavar="KEY:SECRET",
        help="accept only these consumer credentials (repeatable; default: any)")
    shortcodes: Mapping[str, str] = _fm(
        lambda: {SANDBOX_SHORTCODE: SANDBOX_PASSKEY}, flag="--shortcode", parse=pair,
        repeat=True, metavar="CODE:PASSKEY",
        help=f"register a shortcode and its passkey (repeatable; {SANDBOX_SHORTCODE} is always "
        "known)")
    tills: tuple[str, ...] = _f(
        (), flag="--till", repeat=True, metavar="CODE",
        help="register a Buy Goods till number (repeatable); C2B and STK Buy Goods pay into its "
        "Merchant Account")
    customer_balance: int = _f(
        100_000, flag="--customer-balance", parse=shillings, metavar="KES",
        help="every customer's opening wallet balance (default 100000)")
    business_balance: int = _f(
        1_000_000, flag="--business-balance", parse=shillings, metavar="KES",
        help="every shortcode's opening Working and Utility (till: Merchant) balance "
        "(default 1000000)")
    c2b_validation_timeout: float = _f(
        8.0, flag="--c2b-validation-timeout", parse=positive_float, metavar="S",
        help="real seconds Daraja waits for a validation answer before ResponseType decides")
    c2b_register_once: bool = _f(
        False, flag="--c2b-register-once", switch=True,
        help="refuse a second C2B URL registration (500.003.1001), as production does")
    no_stk_confirmation: bool = _f(
        False, flag="--no-stk-confirmation", switch=True,
        help="do not send a C2B confirmation for STK payments to shortcodes with registered URLs")
    c2b_names: NameFields = _f(
        "auto", flag="--c2b-names", choices=("auto", "first", "all"),
        help="name fields in C2B payloads: auto (v1 First/Middle/Last, v2 FirstName only), "
        "first or all")
    strict_credentials: bool = _f(
        False, flag="--strict-credentials", switch=True,
        help="decrypt each SecurityCredential with the emulator's own key and check the "
        "initiator's password (needs the tls extra; the certificate is served at "
        "/_emulator/initiators/certificate)")
    initiators: Mapping[str, str] = _fm(
        dict, flag="--initiator", parse=pair, repeat=True, metavar="NAME:PASSWORD",
        help="register an initiator and its password for --strict-credentials (repeatable; "
        "testapi is always known)")
    config_file: Path | None = _f(None, flag="--config", parse=Path, metavar="FILE",
                                  help="YAML file with 'apps' and 'shortcodes' mappings")
    pending_query: PendingQuery = _f(
        "modern", flag="--pending-query", choices=("modern", "legacy"),
        help="how a query answers while pending: modern (200, ResultCode 4999) "
        "or legacy (500, 500.001.1001)")
    query_wording: QueryWording = _f(
        "typo", flag="--query-wording", choices=("typo", "docs"),
        help="query ResponseDescription: typo ('successsfully', as on the wire) or docs")
    qr_wording: QrWording = _f(
        "2026", flag="--qr-wording", choices=("2026", "2025"),
        help="Dynamic QR ResponseDescription: 2026 ('The service request is processed "
        "successfully.') or 2025 ('QR Code Successfully Generated.'), as each sandbox said")
    require_https: bool = _f(False, flag="--require-https", switch=True,
                             help="reject plain-http CallBackURLs, as production does")
    callback_timeout: float = _f(10.0, flag="--callback-timeout", parse=positive_float,
                                 metavar="S", help="seconds to wait for a callback receiver")
    callback_host_map: Mapping[str, str] = _fm(
        dict, flag="--callback-host-map", parse=parse_host_map, repeat=True, metavar="HOST=NEWHOST",
        help="post callbacks for HOST to NEWHOST instead (repeatable), e.g. "
        "localhost=host.docker.internal when the emulator runs in a container")
    tls: bool = _f(False, flag="--tls", switch=True,
                   help="serve HTTPS with a locally made CA and certificate (needs the tls extra)")
    tls_dir: Path | None = _f(
        None, flag="--tls-dir", parse=Path, metavar="DIR",
        help="where --tls keeps its CA and certificate (default ~/.daraja-emulator/tls)")
    journal_size: int = _f(10_000, flag="--journal-size", parse=positive_int, metavar="N",
                           help="completed transactions kept for queries and inspection")
    max_body_bytes: int = _f(64 * 1024, flag="--max-body-bytes", parse=positive_int,
                             metavar="N", help="larger request bodies get a Daraja-shaped 400")
    # real seconds; the time scale never shortens it (no flag)
    token_lifetime: float = _plain(3600.0)
    rate_limit: int | None = _f(
        None, flag="--rate-limit", parse=positive_int, metavar="N",
        help="requests per second per consumer key; more get Daraja's spike-arrest answer")
    state_file: Path | None = _f(
        None, flag="--state", parse=Path, metavar="FILE",
        help="keep transactions and tokens in this SQLite file across restarts (default: memory)")
    admin_token: str | None = _f(None, flag="--admin-token", parse=nonblank, metavar="TOKEN",
                                 help="require this token (X-Admin-Token header) on the admin API")
    allowed_hosts: tuple[str, ...] = _f(
        (), flag="--allowed-host", parse=host_name, repeat=True, metavar="NAME",
        help="also answer the admin API and dashboard when addressed by NAME, e.g. a compose "
        "service name (repeatable; loopback names, IP addresses, --host and this machine's name "
        "always work; '*' turns the Host check off)")
    callback_allow: tuple[str, ...] = _f(
        (), flag="--callback-allow", parse=host_name, repeat=True, metavar="HOST",
        help="post callbacks only to these hosts (repeatable; default: any); an attempt to "
        "another host is recorded as an error, not posted")
    log_level: str = _f("info", flag="--log-level", choices=("debug", "info", "warning", "error"),
                        help="debug, info, warning or error")
    body_timeout: float = _f(
        10.0, flag="--body-timeout", parse=positive_float, metavar="S",
        help="seconds a client may take to send a request (headers, then body); a slower body "
        "gets Daraja's 400.002.05, a slower request head a closed connection")

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes`, checked as any new Settings is (a Struct, not a dataclass:
        `dataclasses.replace` does not apply)."""
        values = {name: getattr(self, name) for name in self.__struct_fields__}
        return Settings(**{**values, **changes})

    def __post_init__(self) -> None:
        _check_numbers(self)
        force_setattr(self, "apps", _frozen(self.apps))
        force_setattr(self, "shortcodes", _frozen(self.shortcodes))
        force_setattr(self, "initiators", _frozen(self.initiators))
        hosts = {k.lower(): v for k, v in self.callback_host_map.items()}
        force_setattr(self, "callback_host_map", _frozen(hosts))
        if self.pending_query not in ("modern", "legacy"):
            raise ValueError("pending_query must be 'modern' or 'legacy'")
        force_setattr(self, "tills", tuple(str(code) for code in self.tills))
        if self.query_wording not in ("typo", "docs"):
            raise ValueError("query_wording must be 'typo' or 'docs'")
        if self.qr_wording not in ("2026", "2025"):
            raise ValueError("qr_wording must be '2026' or '2025'")
        if self.admin_token is not None and not self.admin_token.strip():
            raise ValueError("admin_token must not be empty or blank: give a token or None")
        for name in ("allowed_hosts", "callback_allow"):
            force_setattr(self, name, tuple(host_name(h) for h in getattr(self, name)))


# numeric settings: (smallest, largest, whole number?), smallest None for "above 0"; a wrong
# value stops Settings(...) with the field named, as the command line's parser stops a flag,
# instead of failing later (a customer_balance="lots" answered 500 on the first ledger read)
_NUMBERS: dict[str, tuple[float | None, float, bool]] = {
    "port": (0, 65535, True), "customer_balance": (0, MAX_BALANCE, True),
    "business_balance": (0, MAX_BALANCE, True), "journal_size": (1, math.inf, True),
    "max_body_bytes": (1, math.inf, True), "rate_limit": (1, math.inf, True),
    "seed": (-math.inf, math.inf, True), "time_scale": (0, MAX_TIME_SCALE, False),
    "c2b_validation_timeout": (None, math.inf, False), "callback_timeout": (None, math.inf, False),
    "body_timeout": (None, math.inf, False), "token_lifetime": (None, math.inf, False),
}
_MAY_BE_NONE = frozenset({"rate_limit", "seed"})


def _check_numbers(settings: Settings) -> None:
    for name, (low, high, whole) in _NUMBERS.items():
        value = getattr(settings, name)
        if value is None and name in _MAY_BE_NONE:
            continue
        if whole and not isinstance(value, int) and hasattr(value, "__index__"):
            value = operator.index(value)  # numpy's integers, say: kept as a plain int
            force_setattr(settings, name, value)
        number = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool)
        if not (number and (whole or math.isfinite(value)) and value <= high
                and (value > 0 if low is None else value >= low)):
            raise ValueError(f"{name} must be {_described(low, high, whole)}, got {value!r}")


def _described(low: float | None, high: float, whole: bool) -> str:
    """'a whole number from 0 to 65,535', 'a number > 0', ...: what _NUMBERS asks."""
    what = "a whole number" if whole else "a number"
    if low is None:
        return f"{what} > 0"
    if high < math.inf:
        return f"{what} from {low:g} to {high:,}" if whole else f"{what} from {low:g} to {high:g}"
    return f"{what} >= {low:g}" if low > -math.inf else what


def _flags() -> dict[str, dict[str, Any]]:
    """Field name -> its flag's description (what `opt` returns, with the default)."""
    names = Settings.__struct_fields__
    if len(names) != len(_DECLARED):  # a field declared without _f, _fm or _plain
        raise TypeError("declare every Settings field with _f, _fm or _plain")
    return {name: meta for name, meta in zip(names, _DECLARED, strict=True) if meta is not None}


FLAGS = _flags()
