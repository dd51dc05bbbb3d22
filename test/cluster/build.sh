#!/usr/bin/env bash
# Builds the test control plane from source: kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl of one Kubernetes release (go/kubernetes-<version>), etcd (go/etcd)
# and KWOK (go/kwok). The binaries are cached outside the clone, keyed by the module files and
# the Go version, so a fresh clone on the same machine (CI) links them instead of compiling;
# a change of release or of a go.mod rebuilds only what it touches.
# It links them into .services/cluster/<version>/bin and the release's kubectl into
# .services/bin/kubectl, then prints one line per binary with its version.
#
#   K8S_VERSION          release to build (test/cluster/versions.env)
#   MEMOSTACK_CACHE_DIR  where binaries are kept (${XDG_CACHE_HOME:-~/.cache}/memostack)
set -euo pipefail

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "${CLUSTER_DIR}/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${ROOT_DIR}/scripts/lib/common.sh"
# shellcheck source=test/cluster/versions.env
[[ -n "${K8S_VERSION:-}" ]] || source "${CLUSTER_DIR}/versions.env"
CACHE_DIR="${MEMOSTACK_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/memostack}/cluster"
BIN_DIR="${ROOT_DIR}/.services/cluster/${K8S_VERSION}/bin"

command -v go >/dev/null || fail go "not found: the control plane is compiled with Go 1.26 or newer (https://go.dev/dl, or Debian's golang-go when it is new enough)"

# The file name go build gives a main package: its last path element, unless that is a major
# version suffix (go.etcd.io/etcd/server/v3 builds "server").
binary_of() {
  local base="${1##*/}"
  if [[ "${base}" =~ ^v[0-9]+$ ]]; then
    base="${1%/*}"
    base="${base##*/}"
  fi
  printf '%s\n' "${base}"
}

# build NAME MODULE_DIR LDFLAGS BINARY=PACKAGE...: compiles the packages into one cache folder
# named by a hash of what decides the result, and links each as BINARY into BIN_DIR.
build() {
  local name="$1" module="$2" ldflags="$3"
  shift 3
  [[ -f "${module}/go.mod" ]] || fail "${name}" "no module ${module#"${ROOT_DIR}/"}"
  # A module whose go line is newer than the local Go names its toolchain; the proxy serves it.
  local need have
  need="$(awk '$1 == "go" { print $2; exit }' "${module}/go.mod")"
  have="$(go env GOVERSION)"
  if [[ "$(printf '%s\n%s\n' "go${need}" "${have}" | sort -V | tail -n 1)" != "${have}" ]]; then
    export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
  fi
  local key out
  key="$({ cat "${module}/go.mod" "${module}/go.sum"; go env GOVERSION; echo "${ldflags}"; } | sha256sum | cut -c1-16)"
  out="${CACHE_DIR}/${name}-${key}"
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
      fail "${name}" "go build failed in ${module#"${ROOT_DIR}/"}"
    for i in "${!packages[@]}"; do
      local built
      built="$(binary_of "${packages[i]}")"
      [[ "${built}" == "${binaries[i]}" ]] || mv "${out}.tmp/${built}" "${out}.tmp/${binaries[i]}"
    done
    rm -rf "${out}"
    mv "${out}.tmp" "${out}"
    say "${name}" "compiled in $((SECONDS - started)) s"
  fi
  mkdir -p "${BIN_DIR}"
  for pair in "$@"; do ln -sfn "${out}/${pair%%=*}" "${BIN_DIR}/${pair%%=*}"; done
}

[[ "${K8S_VERSION}" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || fail kubernetes "K8S_VERSION '${K8S_VERSION}' is not a release tag like v1.36.3"
minor="${BASH_REMATCH[1]}"
k8s_module="${CLUSTER_DIR}/go/kubernetes-${K8S_VERSION}"
[[ -d "${k8s_module}" ]] ||
  fail kubernetes "no module for ${K8S_VERSION}: make it with bash test/cluster/go/new-kubernetes-module.sh ${K8S_VERSION}"

# Without the version stamp the binaries report v0.0.0-master, and kubectl warns of skew.
build "kubernetes-${K8S_VERSION}" "${k8s_module}" \
  "-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/component-base/version.gitTreeState=clean" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl
build etcd "${CLUSTER_DIR}/go/etcd" "-s -w" etcd=go.etcd.io/etcd/server/v3
build kwok "${CLUSTER_DIR}/go/kwok" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok

# The default release's kubectl is the one people and CI use for kustomize and apply -k.
(
  unset K8S_VERSION
  source "${CLUSTER_DIR}/versions.env"
  if [[ -x "${ROOT_DIR}/.services/cluster/${K8S_VERSION}/bin/kubectl" ]]; then
    mkdir -p "${ROOT_DIR}/.services/bin"
    ln -sfn "${ROOT_DIR}/.services/cluster/${K8S_VERSION}/bin/kubectl" "${ROOT_DIR}/.services/bin/kubectl"
  fi
)

say kubernetes "$("${BIN_DIR}/kube-apiserver" --version) (apiserver, controller-manager, scheduler in ${BIN_DIR#"${ROOT_DIR}/"})"
say kubectl "$("${BIN_DIR}/kubectl" version --client 2>/dev/null | paste -sd ' ' -)"
say etcd "$("${BIN_DIR}/etcd" --version | head -n 1)"
say kwok "$("${BIN_DIR}/kwok" --version)"
