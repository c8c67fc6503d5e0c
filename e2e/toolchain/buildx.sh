#!/usr/bin/env bash
# Builds the Docker Buildx CLI plugin from its Go module, for the quickstart scenario: a user's
# machine has the Docker CLI with buildx, and Debian's docker.io package has no buildx plugin.
#
#   bash e2e/toolchain/buildx.sh <outdir>    -> <outdir>/cli-plugins/docker-buildx
#
# Put <outdir>/cli-plugins in $DOCKER_CONFIG/cli-plugins (or ~/.docker/cli-plugins) and
# `docker buildx` finds it. The step is skipped when its output exists; the caller keys
# <outdir> by a hash of this file, so changing the version starts from an empty outdir.
set -euo pipefail

BUILDX_VERSION=v0.38.2   # needs Go 1.26.8; the module has no replace or exclude directives

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || { echo "toolchain: no go binary (set GO=)" >&2; exit 1; }

out=${1:?usage: buildx.sh <outdir>}
mkdir -p "$out/cli-plugins"
out=$(cd "$out" && pwd)
plugin=$out/cli-plugins/docker-buildx

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off

if [ -e "$plugin" ]; then
    echo "toolchain: buildx $BUILDX_VERSION cached"
    exit 0
fi
start=$(date +%s)
gobin=$out/.gobin
rm -rf "$gobin"
GOBIN=$gobin "$GO" install -trimpath \
    -ldflags "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
    "github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION"
mv "$gobin/buildx" "$plugin"
rm -rf "$gobin"
echo "toolchain: buildx $BUILDX_VERSION $(( $(date +%s) - start ))s"
