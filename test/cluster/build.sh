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
# shellcheck source=scripts/lib/go-build.sh
source "${ROOT_DIR}/scripts/lib/go-build.sh"
# shellcheck source=test/cluster/versions.env
[[ -n "${K8S_VERSION:-}" ]] || source "${CLUSTER_DIR}/versions.env"
CACHE_DIR="$(go_cache_dir cluster)"
BIN_DIR="${ROOT_DIR}/.services/cluster/${K8S_VERSION}/bin"

require_go "the control plane"

[[ "${K8S_VERSION}" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || fail kubernetes "K8S_VERSION '${K8S_VERSION}' is not a release tag like v1.36.3"
minor="${BASH_REMATCH[1]}"
k8s_module="${CLUSTER_DIR}/go/kubernetes-${K8S_VERSION}"
[[ -d "${k8s_module}" ]] ||
  fail kubernetes "no module for ${K8S_VERSION}: make it with bash test/cluster/go/new-kubernetes-module.sh ${K8S_VERSION}"

# Without the version stamp the binaries report v0.0.0-master, and kubectl warns of skew.
go_build_cached "kubernetes-${K8S_VERSION}" "${k8s_module}" "${CACHE_DIR}" "${BIN_DIR}" \
  "-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/component-base/version.gitTreeState=clean" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl
go_build_cached etcd "${CLUSTER_DIR}/go/etcd" "${CACHE_DIR}" "${BIN_DIR}" "-s -w" etcd=go.etcd.io/etcd/server/v3
go_build_cached kwok "${CLUSTER_DIR}/go/kwok" "${CACHE_DIR}" "${BIN_DIR}" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok

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
