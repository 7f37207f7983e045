# Sourced by the scripts: use the active virtualenv, or make ./.venv and use it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY="$VIRTUAL_ENV/bin/python"
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  PY="$PWD/.venv/bin/python"
fi
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }
