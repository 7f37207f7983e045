"""The package's public surface is exactly its sorted __all__ (as httpx checks its own)."""

import emulator


def test_all_is_sorted_and_complete() -> None:
    assert emulator.__all__ == sorted(emulator.__all__)
    public = {name for name in vars(emulator) if not name.startswith("_")} - {
        "annotations", "app", "callbacks", "cli", "client", "clock", "config", "daraja", "errors",
        "events", "faults", "http", "ids", "instance", "persistence", "resultcodes", "runtime",
        "scenario", "scheduler", "store", "testing", "admin", "configfile", "tls",
    }
    assert public == set(emulator.__all__) - {"__version__"}
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None
