# Sourced by the scripts: use the active virtualenv, or make ./.venv and use it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
_real() { (cd "$1" 2>/dev/null && pwd -P) || echo "${1%/}"; }  # a folder, symlinks resolved
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY="${VIRTUAL_ENV%/}/bin/python"
  if [ "$(_real "$VIRTUAL_ENV")" != "$(_real "$PWD/.venv")" ]; then  # maybe another project's
    echo "scripts/$(basename "$0"): installing into the active virtualenv $VIRTUAL_ENV," \
      "not this checkout's ./.venv (run 'deactivate' first to use ./.venv)" >&2
  fi
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  PY="$PWD/.venv/bin/python"
fi
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }

# What to do once the server is up: its dashboard, and the command for a second terminal.
# Takes daraja-emulator's arguments; says nothing for a subcommand or --help.
serve_hint() {
  local host="${DARAJA_HOST:-127.0.0.1}" port="${DARAJA_PORT:-8765}" scheme=http
  case "$(echo "${DARAJA_TLS:-}" | tr '[:upper:]' '[:lower:]')" in 1|true|yes|on) scheme=https ;; esac
  case "${1:--}" in -*) ;; *) return 0 ;; esac
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help|--version) return 0 ;;
      --host) host="${2:-$host}"; shift ;;
      --host=*) host="${1#*=}" ;;
      --port) port="${2:-$port}"; shift ;;
      --port=*) port="${1#*=}" ;;
      --tls) scheme=https ;;
    esac
    shift
  done
  case "$host" in 0.0.0.0|::|"") host=127.0.0.1 ;; *:*) host="[$host]" ;; esac
  local url="$scheme://$host:$port" bin="${PY%/*}"
  case "$bin" in "$PWD"/*) bin="./${bin#"$PWD"/}" ;; esac
  local command="$bin/daraja-emulator follow"
  [ "$url" = "http://127.0.0.1:8765" ] || command="$command --url $url"
  cat >&2 <<HINT
scripts/serve: starting the emulator on $url (Ctrl-C stops it). Then:
  the QA dashboard:  open $url/ in a browser
  another terminal:  $command   (also: transactions, --help)
HINT
}
