#!/usr/bin/env bash
# Builds Dex (go/dex), the OpenID Connect provider the app's auth tests run on 127.0.0.1
# (app/test/support/oidc-provider.ts). The binary is cached outside the clone, keyed by the
# module files and the Go version (scripts/lib/go-build.sh), and linked to .services/oidc/bin/dex.
#
#   MEMOSTACK_CACHE_DIR  where binaries are kept (${XDG_CACHE_HOME:-~/.cache}/memostack)
set -euo pipefail

OIDC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "${OIDC_DIR}/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${ROOT_DIR}/scripts/lib/common.sh"
# shellcheck source=scripts/lib/go-build.sh
source "${ROOT_DIR}/scripts/lib/go-build.sh"
BIN_DIR="${ROOT_DIR}/.services/oidc/bin"
# The release go/dex/go.mod pins (by its commit: see the comment there). `dex version` prints it.
DEX_VERSION=v2.45.1

require_go "the OpenID Connect provider"
go_build_cached "dex-${DEX_VERSION}" "${OIDC_DIR}/go/dex" "$(go_cache_dir oidc)" "${BIN_DIR}" \
  "-s -w -X main.version=${DEX_VERSION}" dex=github.com/dexidp/dex/cmd/dex
say dex "$("${BIN_DIR}/dex" version | head -n 1) (${BIN_DIR#"${ROOT_DIR}/"}/dex)"
