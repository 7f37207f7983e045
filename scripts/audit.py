"""Audit the installed packages for known vulnerabilities with pip-audit (scripts/test runs it).

Fails (exit 1) when pip-audit finds a vulnerability. Only warns when it cannot find out: the
vulnerability service unreachable, or answering for none of the packages (a registry mirror
that serves packages but not PyPI's JSON API makes pip-audit skip every one and report
"No known vulnerabilities found", which would be a false all-clear).

DARAJA_SKIP_AUDIT=1 skips it; DARAJA_AUDIT_IGNORE=ID,ID ignores those advisories;
DARAJA_AUDIT_SERVICE picks pip-audit's service (pypi, the default, or osv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

NETWORK_HINTS = ("ConnectionError", "Max retries", "Name or service not known", "timed out",
                 "Temporary failure in name resolution", "NewConnectionError", "SSLError",
                 "ProxyError", "ConnectTimeout", "ReadTimeout", "Network is unreachable")


def warn(text: str) -> None:
    print(f"scripts/audit: WARNING: {text}", file=sys.stderr)


def main() -> int:
    if os.environ.get("DARAJA_SKIP_AUDIT", "") in ("1", "true", "yes"):
        warn("skipped (DARAJA_SKIP_AUDIT)")
        return 0
    service = os.environ.get("DARAJA_AUDIT_SERVICE", "pypi")
    command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", service,
               "--format", "json", "--progress-spinner", "off", "--skip-editable"]
    for advisory in filter(None, os.environ.get("DARAJA_AUDIT_IGNORE", "").split(",")):
        command += ["--ignore-vuln", advisory.strip()]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        warn("pip-audit took over 10 minutes; not audited")
        return 0
    try:
        report = json.loads(run.stdout)
    except ValueError:
        tail = " ".join(run.stderr.strip().splitlines()[-3:])[:400]
        if any(hint in run.stderr for hint in NETWORK_HINTS):
            warn(f"the vulnerability service ({service}) is out of reach; not audited ({tail})")
        elif "No module named pip_audit" in run.stderr:
            warn("pip-audit is not installed (it comes with the test extra); not audited")
        else:
            warn(f"pip-audit failed (exit {run.returncode}); not audited: {tail}")
        return 0
    deps = report.get("dependencies", [])
    found = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
    skipped = [d for d in deps if d.get("skip_reason")]
    for name, version, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"scripts/audit: {name} {version}: {vuln['id']} ({aliases}); fixed in {fixes}",
              file=sys.stderr)
    if found:
        print(f"scripts/audit: {len(found)} known vulnerabilities in the installed packages; "
              "raise the floors in pyproject.toml (or DARAJA_AUDIT_IGNORE=ID with a reason)",
              file=sys.stderr)
        return 1
    audited = len(deps) - len(skipped)
    if deps and audited == 0:
        warn(f"the {service} service answered for none of the {len(deps)} packages "
             f"(first: {skipped[0]['skip_reason']}); not audited")
    elif skipped:
        warn(f"{len(skipped)} of {len(deps)} packages could not be audited "
             f"(e.g. {skipped[0]['skip_reason']})")
        print(f"scripts/audit: no known vulnerabilities in {audited} packages", file=sys.stderr)
    else:
        print(f"scripts/audit: no known vulnerabilities in {audited} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
