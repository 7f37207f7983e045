"""Read scenario YAML files into `Scenario` objects (PyYAML through reader.py, imported when a
file is read; the bundled set comes from its snapshot, see snapshot.py).

One scenario per file. Every field, with its rules::

    name: cancelled              # optional; defaults to the file stem; [a-z0-9][a-z0-9_-]*
    description: The customer presses Cancel on the PIN prompt.   # optional string
    result_code: 1032            # required: an int >= 0, or a non-numeric string code (SFC_IC0003)
    result_desc: ...             # optional; defaults to the catalogue text for the code
                                 #   (emulator.kernel.texts); required when the code is not in it
    delay: [5, 15]               # required: seconds, a number >= 0 or [min, max], 0 <= min <= max
    callback: once               # optional: once | never | twice (default once)
    duplicate_gap: 1             # optional number >= 0; seconds between the two posts of `twice`
    balance: empty               # optional: empty | omit (default empty); the success Balance item
    default: false               # optional bool; the scenario used when no other one matches
    manual: false                # optional bool; wait for a decision from the admin API
    manual_timeout: 60           # optional number > 0; real seconds before a manual push ends 1037
    match:                       # optional mapping; every condition given must hold
      phones: ["254700001032"]   # 12-digit MSISDNs 2547XXXXXXXX / 2541XXXXXXXX (str or int)
      amount: 5                  # an int >= 1, or [min, max] inclusive
      account_references: ["FAIL-*"]   # glob patterns, case-sensitive

A C2B scenario (which payer phones' C2B payments play out how) has `c2b:` instead of the
outcome fields, and only name, description and match besides::

    c2b:
      validation: timeout        # answer | timeout (default answer): timeout ignores the answer
      confirmation: never        # once | never | twice (default once)
      delay: [1, 3]              # seconds before the validation or confirmation POST
      duplicate_gap: 2           # seconds between the two posts of `twice`

An initiator scenario (how a B2C, B2B, Reversal, Transaction Status or Account Balance request
ends; B2C ones match the recipient's phone) has `initiator:` instead of the outcome fields::

    initiator:
      result_code: 2001          # as result_code above; result_desc defaults to the catalogue's
      result: once               # once | never | twice | queue-timeout (default once)
      delay: [1, 3]              # seconds before the result
      apis: [b2c, b2b]           # optional: b2c, b2b, reversal, txstatus, balance (default all)

The loader is strict because a typo that is silently ignored makes a test pass for the wrong
reason: unknown or repeated keys, wrong types (booleans are not numbers, "5" is not a number) and
out-of-range values are all `ScenarioError`s naming the file, the 1-based line and the field.
`duplicate_gap` without `callback: twice` and `manual_timeout` without `manual: true` are accepted
and have no effect. A scenario with no `match` is valid: it can still be chosen by name.

`load_scenarios` merges the bundled set (``scenarios/``) with the user's folders: a user
scenario replaces the bundled one of the same name, and a user `default: true` takes the default
over from the bundled one. Within one tier (bundled, or all user folders together) names, the
default and claimed phones must be unique.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from msgspec.structs import replace

from emulator.scenario import snapshot
from emulator.scenario.errors import ScenarioError
from emulator.scenario.files import bundled_dir, read_dir, read_file, source_name
from emulator.scenario.model import Loaded, Scenario

log = logging.getLogger("emulator.scenario")

__all__ = [
    "ScenarioError", "bundled_dir", "load_dir", "load_file", "load_scenarios", "read_dir",
    "source_name",
]


def _bundled() -> list[Loaded]:
    """The bundled set: from its snapshot while that matches the files, else from the YAML."""
    folder = bundled_dir()
    loaded = snapshot.read(folder)
    if loaded:
        return loaded
    log.info("bundled scenarios in %s: read from the YAML, since they (or the code that reads "
             "them) changed after their snapshot; python -m emulator.scenario.snapshot "
             "rewrites it", folder)
    return read_dir(folder, bundled=True)


# --------------------------------------------------------------------------- public API


def load_file(path: Path, *, bundled: bool = False) -> Scenario:
    """One scenario file, strictly validated; raises ScenarioError naming file, line, field."""
    return read_file(Path(path), bundled).scenario


def load_dir(path: Path, *, bundled: bool = False) -> list[Scenario]:
    """Every *.yaml / *.yml file in a folder, sorted by file name (cross-file rules not checked)."""
    return [loaded.scenario for loaded in read_dir(Path(path), bundled=bundled)]


def _check_tier(tier: list[Loaded]) -> None:
    """Within one tier names, the default and phones must be unique, else matching is ambiguous."""
    names: dict[str, Loaded] = {}
    default: Loaded | None = None
    phones: dict[tuple[str, str], Loaded] = {}  # (kind of scenario, phone) -> claimant
    for loaded in tier:
        s = loaded.scenario
        if s.name in names:
            raise ScenarioError(
                loaded.path,
                loaded.name_line,
                "name",
                f"scenario name {s.name!r} is also used by {names[s.name].path}",
            )
        names[s.name] = loaded
        if s.default and default is not None:
            raise ScenarioError(
                loaded.path,
                loaded.default_line,
                "default",
                f"only one scenario may have default: true; {default.path} "
                f"({default.scenario.name!r}) has it too",
            )
        default = loaded if s.default else default
        kind = "c2b" if s.c2b else "initiator" if s.initiator else "stk"  # one of each
        for phone, (line, path) in loaded.phones.items():
            if (kind, phone) in phones:
                other = phones[(kind, phone)]
                raise ScenarioError(
                    loaded.path,
                    line,
                    path,
                    f"phone {phone} is also claimed by scenario {other.scenario.name!r} in "
                    f"{other.path}",
                )
            phones[(kind, phone)] = loaded


def _merge(bundled: list[Loaded], users: list[Loaded]) -> list[Scenario]:
    """Bundled scenarios not replaced by name, then the user's; a user default demotes bundled."""
    user_names = {loaded.scenario.name for loaded in users}
    user_default = any(loaded.scenario.default for loaded in users)
    kept = [loaded.scenario for loaded in bundled if loaded.scenario.name not in user_names]
    if user_default:
        kept = [replace(s, default=False) if s.default else s for s in kept]
    return kept + [loaded.scenario for loaded in users]


def _no_default(bundled: list[Loaded], users: list[Loaded], label: str) -> ScenarioError:
    """Explain a missing default, pointing at a user file that replaced the bundled default."""
    replaced = {loaded.scenario.name for loaded in bundled if loaded.scenario.default}
    for loaded in users:
        s = loaded.scenario
        if s.name in replaced:
            return ScenarioError(
                loaded.path,
                loaded.name_line,
                "default",
                f"replaces the bundled default scenario {s.name!r} without "
                f"default: true, so no scenario is the default",
            )
    return ScenarioError(
        label, None, "default", "no scenario has default: true; mark exactly one as the default"
    )


def load_scenarios(
    user_dirs: Sequence[Path] = (), *, include_bundled: bool = True
) -> list[Scenario]:
    """The bundled set merged with the user's folders; exactly one scenario is the default."""
    dirs = ([bundled_dir()] if include_bundled else []) + [Path(d) for d in user_dirs]
    label = ", ".join(str(d) for d in dirs) or "<no scenario folders>"
    bundled = _bundled() if include_bundled else []
    users = [loaded for d in user_dirs for loaded in read_dir(Path(d), bundled=False)]
    _check_tier(bundled)
    _check_tier(users)
    final = _merge(bundled, users)
    if not final:
        raise ScenarioError(label, None, None, "no scenario files (*.yaml, *.yml) found")
    if not any(s.default for s in final):
        raise _no_default(bundled, users, label)
    return final
