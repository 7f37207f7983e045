"""Daraja Emulator: a local, offline stand-in for Safaricom's M-Pesa Daraja API.

The public names are imported on first use, so that `daraja-emulator` (which needs the app but
not the test server or the admin client's httpx) starts without importing what it never uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from emulator._version import __version__

if TYPE_CHECKING:
    from emulator.app import create_app
    from emulator.config import Settings
    from emulator.handle import EmulatorHandle
    from emulator.testing import EmulatorServer

__all__ = ["EmulatorHandle", "EmulatorServer", "Settings", "__version__", "create_app"]
_HOMES = {  # maps public name -> the module that defines it
    "EmulatorHandle": "emulator.handle",
    "EmulatorServer": "emulator.testing",
    "Settings": "emulator.config",
    "create_app": "emulator.app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
