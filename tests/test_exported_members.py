"""The package's public surface is exactly its sorted __all__ (as httpx checks its own); the
names load on first use, so each must resolve."""

import types

import emulator


def test_all_is_sorted_and_complete() -> None:
    assert emulator.__all__ == sorted(emulator.__all__)
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None
    public = {
        name for name, value in vars(emulator).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any", "import_module"}
    }
    assert public == set(emulator.__all__) - {"__version__"}
