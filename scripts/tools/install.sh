#!/usr/bin/env bash
# Installs the real programs the config checks (test/programs) run, without starting any daemon:
#   promtool  from the Debian package "prometheus"
#   amtool    from the Debian package "prometheus-alertmanager"
# Both are unpacked with `apt-get download` + `dpkg -x` into .services/tools/ (git-ignored), so
# no systemd unit or init script of those packages ever runs and no root is needed for them.
# It assembles the Kafka 3.9.1 broker classpath (scripts/services/kafka.sh fetch, Maven Central)
# and checks that mariadbd, mariadb-install-db, redis-server, redis-cli and java exist (those
# come with scripts/services/up.sh), then prints every version. Idempotent: a second run with
# the same package versions touches nothing and needs no network.
#
#   TOOLS_DIR   where the packages are unpacked (.services/tools)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-${ROOT_DIR}/.services/tools}"
BIN_DIR="${TOOLS_DIR}/bin"

# shellcheck source=scripts/lib/common.sh
source "${SCRIPT_DIR}/../lib/common.sh"

apt_updated=0
apt_update_once() {
  ((apt_updated == 0)) || return 0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    fail apt "apt-get update failed (need root or passwordless sudo)"
  apt_updated=1
}

candidate_version() {
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

# unpack PACKAGE BINARY: makes ${BIN_DIR}/BINARY from the package's usr/bin, reusing what a
# previous run unpacked when the candidate version is unchanged.
unpack() {
  local pkg="$1" bin="$2" version
  local dest="${TOOLS_DIR}/${pkg}" stamp="${TOOLS_DIR}/${pkg}/.version"
  # apt-cache takes half a second a package; the candidate can only have changed if the package
  # lists did (apt-get update rewrites /var/lib/apt/lists), so an unpack newer than them stands.
  if [[ -x "${dest}/usr/bin/${bin}" && -f "${stamp}" && "${stamp}" -nt /var/lib/apt/lists ]]; then
    ln -sfn "${dest}/usr/bin/${bin}" "${BIN_DIR}/${bin}"
    return 0
  fi
  version="$(candidate_version "${pkg}")"
  if [[ -z "${version}" || "${version}" == "(none)" ]]; then
    apt_update_once
    version="$(candidate_version "${pkg}")"
  fi
  [[ -n "${version}" && "${version}" != "(none)" ]] || fail "${bin}" "no Debian package ${pkg} in the apt sources"

  if [[ -x "${dest}/usr/bin/${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${version}" ]]; then
    touch "${stamp}"
    ln -sfn "${dest}/usr/bin/${bin}" "${BIN_DIR}/${bin}"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "${TOOLS_DIR}/.download.XXXXXX")"
  # The _apt sandbox user cannot write into a root-owned scratch dir; downloading as the
  # caller avoids a warning and a failed chown.
  if ! (cd "${tmp}" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${pkg}=${version}" >/dev/null 2>"${tmp}/err"); then
    apt_update_once
    (cd "${tmp}" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${pkg}=${version}" >/dev/null 2>"${tmp}/err") || {
      cat "${tmp}/err" >&2
      rm -rf "${tmp}"
      fail "${bin}" "apt-get download ${pkg}=${version} failed"
    }
  fi
  rm -rf "${dest}"
  dpkg -x "${tmp}"/"${pkg}"_*.deb "${dest}"
  rm -rf "${tmp}"
  [[ -x "${dest}/usr/bin/${bin}" ]] || fail "${bin}" "package ${pkg} has no usr/bin/${bin}"
  printf '%s\n' "${version}" >"${stamp}"
  ln -sfn "${dest}/usr/bin/${bin}" "${BIN_DIR}/${bin}"
}

require_command() {
  local cmd="$1" hint="$2"
  command -v "${cmd}" >/dev/null || [[ -x "/usr/sbin/${cmd}" ]] || fail "${cmd}" "not found (${hint})"
}

if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  fail apt "apt-get and dpkg are needed"
fi
mkdir -p "${BIN_DIR}"
unpack prometheus promtool
unpack prometheus-alertmanager amtool

for cmd in mariadbd mariadb-install-db redis-server redis-cli java mvn; do
  require_command "${cmd}" "bash scripts/services/up.sh installs it"
done
kafka_out="$("${ROOT_DIR}/scripts/services/kafka.sh" fetch 2>&1)" || {
  printf '%s\n' "${kafka_out}" >&2
  fail kafka "scripts/services/kafka.sh fetch failed"
}

mariadbd_bin="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
say promtool "$("${BIN_DIR}/promtool" --version 2>&1 | head -n 1) (${BIN_DIR}/promtool)"
say amtool "$("${BIN_DIR}/amtool" --version 2>&1 | head -n 1) (${BIN_DIR}/amtool)"
say mariadbd "$("${mariadbd_bin}" --version 2>&1 | head -n 1)"
say redis "$(redis-server --version 2>&1 | head -n 1)"
say java "$(java -version 2>&1 | head -n 1)"
say kafka "$(basename "$(ls "${ROOT_DIR}"/.services/kafka/libs/kafka_2.13-*.jar)" .jar)"
