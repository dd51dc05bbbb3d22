# shellcheck shell=bash
# Compiles Go programs from the modules the project pins (test/cluster/go/*, test/oidc/go/*),
# one go.mod per component with a `tool` directive, and caches the binaries outside the clone.
# The cache folder is named by a hash of go.mod, go.sum, the Go version and the link flags, so a
# fresh clone on the same machine (CI) links the binaries instead of compiling, and a change of
# any of those rebuilds only the component it touches. Source it after scripts/lib/common.sh;
# it defines functions only, and shows paths relative to ROOT_DIR when the caller sets it.
#
#   MEMOSTACK_CACHE_DIR  where binaries are kept (${XDG_CACHE_HOME:-~/.cache}/memostack)

# The cache folder of one group of components: go_cache_dir cluster -> ~/.cache/memostack/cluster.
go_cache_dir() {
  printf '%s/%s\n' "${MEMOSTACK_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/memostack}" "$1"
}

# Stops the script with a message when there is no Go to compile with.
require_go() {
  command -v go >/dev/null ||
    fail go "not found: $1 is compiled with Go 1.26 or newer (https://go.dev/dl, or Debian's golang-go when it is new enough)"
}

# The file name go build gives a main package: its last path element, unless that is a major
# version suffix (go.etcd.io/etcd/server/v3 builds "server").
go_binary_of() {
  local base="${1##*/}"
  if [[ "${base}" =~ ^v[0-9]+$ ]]; then
    base="${1%/*}"
    base="${base##*/}"
  fi
  printf '%s\n' "${base}"
}

# go_build_cached NAME MODULE_DIR CACHE_DIR BIN_DIR LDFLAGS BINARY=PACKAGE...
# Compiles the packages of MODULE_DIR into CACHE_DIR/NAME-<hash> unless they are there already,
# and links each as BINARY into BIN_DIR.
go_build_cached() {
  local name="$1" module="$2" cache_dir="$3" bin_dir="$4" ldflags="$5"
  shift 5
  local shown="${module#"${ROOT_DIR:-/nowhere}/"}"
  [[ -f "${module}/go.mod" ]] || fail "${name}" "no module ${shown}"
  # A module whose go line is newer than the local Go names its toolchain; the proxy serves it.
  local need have
  need="$(awk '$1 == "go" { print $2; exit }' "${module}/go.mod")"
  have="$(go env GOVERSION)"
  if [[ "$(printf '%s\n%s\n' "go${need}" "${have}" | sort -V | tail -n 1)" != "${have}" ]]; then
    export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
  fi
  local key out
  key="$({ cat "${module}/go.mod" "${module}/go.sum"; go env GOVERSION; echo "${ldflags}"; } | sha256sum | cut -c1-16)"
  out="${cache_dir}/${name}-${key}"
  local pair missing=0 packages=() binaries=()
  for pair in "$@"; do
    binaries+=("${pair%%=*}")
    packages+=("${pair#*=}")
    [[ -x "${out}/${pair%%=*}" ]] || missing=1
  done
  if ((missing)); then
    say "${name}" "compiling ${binaries[*]} (the first build of a version takes minutes)"
    local started=${SECONDS} i
    rm -rf "${out}.tmp"
    mkdir -p "${out}.tmp"
    # One go build for all of them: they share most packages, and it compiles on every core.
    (cd "${module}" && go build -trimpath -ldflags "${ldflags}" -o "${out}.tmp/" "${packages[@]}") ||
      fail "${name}" "go build failed in ${shown}"
    for i in "${!packages[@]}"; do
      local built
      built="$(go_binary_of "${packages[i]}")"
      [[ "${built}" == "${binaries[i]}" ]] || mv "${out}.tmp/${built}" "${out}.tmp/${binaries[i]}"
    done
    rm -rf "${out}"
    mv "${out}.tmp" "${out}"
    say "${name}" "compiled in $((SECONDS - started)) s"
  fi
  mkdir -p "${bin_dir}"
  for pair in "$@"; do ln -sfn "${out}/${pair%%=*}" "${bin_dir}/${pair%%=*}"; done
}
