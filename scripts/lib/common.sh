# shellcheck shell=bash
# Helpers shared by the setup scripts (scripts/services/up.sh, scripts/tools/install.sh).
# Source it; it defines functions only.

# One aligned status line per component: `say <component> <message>`.
say() { printf '%-10s %s\n' "$1:" "$2"; }

# Reports a failed component and stops the script.
fail() {
  say "$1" "FAILED: $2" >&2
  exit 1
}

# Runs a command as root: directly when we are root, through passwordless sudo otherwise.
as_root() {
  if [[ "$(id -u)" == "0" ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}
