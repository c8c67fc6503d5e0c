#!/usr/bin/env bash
# Builds SeaweedFS, an S3-compatible object store, from its Go module: the team-state scenarios
# keep Pulumi state in a real bucket on loopback (`pulumi login s3://…`), served by `weed server
# … -s3`.
#
#   bash e2e/toolchain/seaweedfs.sh <outdir>    -> <outdir>/bin/weed
#
# The step is skipped when its output exists; the caller keys <outdir> by a hash of this file,
# so changing the version starts from an empty outdir.
set -euo pipefail

SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6   # `weed version` 4.53; go 1.26.6

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || { echo "toolchain: no go binary (set GO=)" >&2; exit 1; }

out=${1:?usage: seaweedfs.sh <outdir>}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
weed=$out/bin/weed

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off

if [ -e "$weed" ]; then
    echo "toolchain: seaweedfs $SEAWEEDFS_VERSION cached"
    exit 0
fi
start=$(date +%s)
# The module is built with its own go.mod (its replace directives hold only there), in a writable
# copy: the module cache is read-only and the build updates nothing but may need to write go.sum.
fetch=$(mktemp -d)
trap 'rm -rf "$fetch" "$out/src"' EXIT
dir=$(cd "$fetch" && "$GO" mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -d "$dir" ] || { echo "toolchain: cannot download github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" >&2; exit 1; }
rm -rf "$out/src"
cp -r "$dir" "$out/src"
chmod -R u+w "$out/src"
(cd "$out/src" && "$GO" build -trimpath -ldflags "-s -w" -o "$weed.tmp" ./weed)
mv "$weed.tmp" "$weed"
echo "toolchain: seaweedfs $SEAWEEDFS_VERSION $(( $(date +%s) - start ))s"
