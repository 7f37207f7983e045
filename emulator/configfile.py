"""The optional --config YAML file: apps and shortcodes too many for flags.

apps:                 # consumer key -> consumer secret
  myKey: mySecret
shortcodes:           # shortcode -> Lipa Na M-Pesa passkey
  "600000": 7f3c...
"""

from __future__ import annotations

from pathlib import Path


class ConfigFileError(Exception):
    """The config file cannot be used; the message names the file and the key."""


def _pairs(path: Path, data: dict[str, object], key: str) -> dict[str, str]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigFileError(f"{path}: '{key}' must be a mapping of key: value")
    pairs = {str(k): str(v) for k, v in value.items()}
    if any(not k or not v or v == "None" for k, v in pairs.items()):
        raise ConfigFileError(f"{path}: '{key}' has an empty key or value")
    return pairs


def load_config_file(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(apps, shortcodes) from the file; unknown top-level keys are errors."""
    import yaml  # only with --config: serving without one never loads PyYAML

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: the top level must be a mapping")
    unknown = set(data) - {"apps", "shortcodes"}
    if unknown:
        raise ConfigFileError(
            f"{path}: unknown key(s) {sorted(unknown)}; expected apps, shortcodes"
        )
    return _pairs(path, data, "apps"), _pairs(path, data, "shortcodes")
