"""Daraja Emulator: a local, offline stand-in for Safaricom's M-Pesa Daraja API."""

from __future__ import annotations

__version__ = "0.1.0"

from .app import create_app  # noqa: E402
from .client import EmulatorHandle  # noqa: E402
from .config import Settings  # noqa: E402
from .testing import EmulatorServer  # noqa: E402

__all__ = ["EmulatorHandle", "EmulatorServer", "Settings", "__version__", "create_app"]
