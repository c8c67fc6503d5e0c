#!/usr/bin/env bash
# Builds the kubernetes stand-in provider (see main.go for why it exists and
# what it leaves out) as <outdir>/bin/pulumi-resource-kubernetes.
#
#   bash e2e/toolchain/kubernetes-standin/build.sh <outdir>
#
# Skipped when the binary exists and is newer than every source file here, so
# a populated <outdir> costs nothing; editing the stand-in rebuilds it. Uses the
# machine's default GOMODCACHE/GOCACHE, like the other toolchain scripts.
set -euo pipefail

VERSION=4.34.2   # the @pulumi/kubernetes version the SDK asks the engine for
GO=${GO:-/usr/local/go/bin/go}

die() { echo "toolchain: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 <outdir>"
command -v "$GO" >/dev/null 2>&1 || die "go not found at $GO (set GO=...)"
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1/bin" || die "cannot create $1/bin"
out=$(cd "$1" && pwd)/bin/pulumi-resource-kubernetes

if [ -x "$out" ] && [ -z "$(find "$src" -maxdepth 1 -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'build.sh' \) -newer "$out")" ]; then
    echo "toolchain: kubernetes stand-in cached"
    exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off
t0=$(date +%s)
# -mod=readonly: go.sum is committed; a missing entry is an error, not a download of something new.
(cd "$src" && "$GO" build -mod=readonly -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" \
    -o "$out.tmp" .) || die "building the kubernetes stand-in failed"
mv "$out.tmp" "$out"
echo "toolchain: kubernetes stand-in $(( $(date +%s) - t0 ))s"
