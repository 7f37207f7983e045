"""Settings: one frozen object built from CLI flags, DARAJA_* variables or a config file.

Nothing reads the environment at import time; `cli.py` builds Settings and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

# The public sandbox shortcode and its published Lipa Na M-Pesa passkey.
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
DEFAULT_PORT = 8765  # clear of 8000/8080/3000/5000, which shop frameworks take

PendingQuery = Literal["modern", "legacy"]
QueryWording = Literal["typo", "docs"]


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Settings:
    """Everything the emulator can be told; each field has a CLI flag and a DARAJA_* variable."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    scenario_dirs: tuple[Path, ...] = ()  # user scenario folders, added to the bundled ones
    bundled_scenarios: bool = True  # False drops the bundled set
    default_scenario: str | None = None  # overrides the scenario files' `default: true`
    time_scale: float = 1.0  # multiplies every scenario delay; 0 = immediate
    seed: int | None = None  # makes ids, receipts and picked delays reproducible
    apps: Mapping[str, str] = field(default_factory=dict)  # consumer key -> secret; empty = any
    shortcodes: Mapping[str, str] = field(
        default_factory=lambda: {SANDBOX_SHORTCODE: SANDBOX_PASSKEY}
    )  # shortcode -> passkey
    pending_query: PendingQuery = "modern"  # 4999 body, or the older 500.001.1001 envelope
    query_wording: QueryWording = "typo"  # "successsfully" as on the wire, or the docs' spelling
    require_https: bool = False  # reject plain-http CallBackURLs, as production does
    callback_timeout: float = 10.0  # seconds for one callback POST
    callback_host_map: Mapping[str, str] = field(default_factory=dict)  # CallBackURL host -> host
    tls: bool = False  # serve HTTPS with a locally made CA and certificate
    tls_dir: Path | None = None  # CA and certificate folder; None = ~/.daraja-emulator/tls
    journal_size: int = 10_000  # completed transactions kept for queries and inspection
    max_body_bytes: int = 64 * 1024  # larger request bodies get a Daraja-shaped 400
    token_lifetime: float = 3600.0  # real seconds; the time scale never shortens it
    rate_limit: int | None = None  # requests per second per consumer key before spike arrest
    state_file: Path | None = None  # SQLite file that keeps state across restarts
    admin_token: str | None = None  # protects /_emulator/ admin endpoints when set
    log_level: str = "info"

    def __post_init__(self) -> None:
        object.__setattr__(self, "apps", _frozen(self.apps))
        object.__setattr__(self, "shortcodes", _frozen(self.shortcodes))
        hosts = {k.lower(): v for k, v in self.callback_host_map.items()}
        object.__setattr__(self, "callback_host_map", _frozen(hosts))
        if self.time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        if self.pending_query not in ("modern", "legacy"):
            raise ValueError("pending_query must be 'modern' or 'legacy'")
        if self.query_wording not in ("typo", "docs"):
            raise ValueError("query_wording must be 'typo' or 'docs'")
