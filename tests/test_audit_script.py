"""scripts/audit.py: a found vulnerability fails the run; an audit that could not happen warns."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(monkeypatch: pytest.MonkeyPatch, stdout: str, stderr: str = "", code: int = 0) -> int:
    audit = _load()

    def fake(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args[0], code, stdout, stderr)

    monkeypatch.setattr(audit.subprocess, "run", fake)
    monkeypatch.delenv("DARAJA_SKIP_AUDIT", raising=False)
    return int(audit.main())


def test_a_vulnerability_fails(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    report = {"dependencies": [
        {"name": "h11", "version": "0.14.0", "vulns": [
            {"id": "GHSA-vqfr-h8mv-ghfj", "fix_versions": ["0.16.0"],
             "aliases": ["CVE-2025-43859"]}]},
        {"name": "orjson", "version": "3.10.0", "vulns": []},
    ]}
    assert _run(monkeypatch, json.dumps(report), code=1) == 1
    assert "CVE-2025-43859" in capsys.readouterr().err


def test_an_unreachable_service_warns(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    err = "requests.exceptions.ConnectionError: Max retries exceeded with url: /v1/query"
    assert _run(monkeypatch, "", err, code=1) == 0
    assert "out of reach" in capsys.readouterr().err


def test_everything_skipped_is_not_an_all_clear(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    report = {"dependencies": [
        {"name": "h11", "version": "0.16.0", "skip_reason": "Dependency not found on PyPI"}]}
    assert _run(monkeypatch, json.dumps(report)) == 0
    assert "answered for none" in capsys.readouterr().err


def test_clean(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    report = {"dependencies": [{"name": "h11", "version": "0.16.0", "vulns": []}]}
    assert _run(monkeypatch, json.dumps(report)) == 0
    assert "no known vulnerabilities in 1 packages" in capsys.readouterr().err
