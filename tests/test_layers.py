"""The house's shape: no import circles between the package's modules (the layers themselves
are import-linter contracts in pyproject.toml, checked by scripts/test)."""

from __future__ import annotations

import grimp


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("emulator", exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.find_modules_directly_imported_by(module)):
            if target == "emulator":  # the package's lazy public surface, not a dependency
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in modules:
        if module not in state and module != "emulator":
            visit(module, [module])
    assert cycles == []


def test_the_kernel_imports_no_family() -> None:
    graph = grimp.build_graph("emulator", exclude_type_checking_imports=True)
    kernel = {m for m in graph.modules if m.startswith("emulator.kernel")}
    for module in kernel:
        outside = {m for m in graph.find_modules_directly_imported_by(module)
                   if not m.startswith("emulator.kernel")}
        assert outside == set(), module
