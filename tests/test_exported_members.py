"""The package's public surface is exactly its sorted __all__ (as httpx checks its own)."""

import types

import emulator


def test_all_is_sorted_and_complete() -> None:
    assert emulator.__all__ == sorted(emulator.__all__)
    public = {
        name for name, value in vars(emulator).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert public == set(emulator.__all__) - {"__version__"}
