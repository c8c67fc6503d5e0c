#!/usr/bin/env bash
# Builds the Docker side of the real-engine suite from Go modules only:
#
#   bash e2e/toolchain/docker.sh <outdir> [<pulumi part dir>]
#
#   <outdir>/bin/pulumi-resource-docker   the Docker provider @pulumi/docker runs: kreuzwerker's
#                                         Terraform provider bridged with pulumi-terraform-bridge,
#                                         configured as pulumi-docker configures it, from our
#                                         wrapper module e2e/toolchain/docker-provider (its main.go
#                                         says what it serves); <outdir>/provider-modules names the
#                                         modules and versions it was built from, and
#   <outdir>/cli-plugins/docker-compose   `docker compose` from github.com/docker/compose/v5
#                                         (the suite points DOCKER_CONFIG's cli-plugins here).
#
# With a pulumi part dir (what e2e/toolchain/pulumi.sh built), the provider is also installed
# into its PULUMI_HOME as resource plugin `docker` at the version the @pulumi/docker package
# pins, with that part's pulumi CLI.
#
# The daemon itself is Debian's: `apt-get install docker.io busybox-static` (dockerd,
# the docker CLI, runc, and the static busybox the suite's images are made of).
#
# Every step is skipped when its output exists; the provider is rebuilt when the wrapper
# module's files or the pinned @pulumi/docker version change (a key file beside it) and
# reinstalled when the installed binary differs. GOMODCACHE/GOCACHE are the machine's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# The @pulumi/docker version the SDK asks the engine for: the provider's plugin version.
DOCKER_PLUGIN_VERSION=$(node -p "require(process.argv[1]).dependencies['@pulumi/docker']" "$repo/package.json")
# docker compose v5.7.x needs Go >= 1.26.10; v5.6.0 builds with the installed 1.26.8.
COMPOSE_VERSION=v5.6.0

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || { echo "toolchain: no go binary (set GO=)" >&2; exit 1; }

out=${1:?usage: docker.sh <outdir> [<pulumi part dir>]}
mkdir -p "$out/bin" "$out/cli-plugins"
out=$(cd "$out" && pwd)
pulumi_part=${2:-}
work=$out/.work

export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOWORK=off

failed=()

# step NAME OUTPUT FUNCTION: runs FUNCTION unless OUTPUT exists, prints its time,
# and records a failure without stopping the other steps.
step() {
    local name=$1 output=$2 fn=$3 start rc
    if [ -e "$output" ]; then
        echo "toolchain: $name cached"
        return 0
    fi
    start=$(date +%s)
    set +e
    ( set -e; "$fn" )
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        echo "toolchain: $name FAILED after $(( $(date +%s) - start ))s (exit $rc)" >&2
        failed+=("$name")
        return 0
    fi
    echo "toolchain: $name $(( $(date +%s) - start ))s"
}

# Downloads exactly the modules the named packages need.
download_deps() {
    "$GO" list -deps "$@" >/dev/null
}

timed() {
    local label=$1 start
    shift
    start=$(date +%s)
    "$@"
    echo "toolchain:   $label $(( $(date +%s) - start ))s"
}

provider_src=$here/docker-provider
provider_key=$( { cd "$provider_src" && cat go.mod go.sum ./*.go shim/go.mod shim/*.go; echo "$DOCKER_PLUGIN_VERSION"; } | sha256sum | cut -c1-16)
provider=$out/bin/pulumi-resource-docker
if [ -e "$provider" ] && [ "$(cat "$provider.key" 2>/dev/null)" != "$provider_key" ]; then
    rm -f "$provider" "$provider.key" "$out/provider-modules"
fi

# The modules the provider is made of, as its go.mod resolves them, for the suite's version log.
provider_modules() {
    "$GO" list -m -f '{{.Path}} {{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' \
        github.com/terraform-providers/terraform-provider-docker \
        github.com/pulumi/pulumi-terraform-bridge/v3 \
        github.com/hashicorp/terraform-plugin-sdk/v2
}

build_provider() {
    cd "$provider_src"
    # Upstream's docker_compose resource is left out, as pulumi-docker builds it.
    timed "docker provider deps" download_deps -tags no_compose .
    timed "docker provider compile" "$GO" build -tags no_compose -trimpath \
        -ldflags "-s -w -X main.version=$DOCKER_PLUGIN_VERSION" -o "$provider.tmp" .
    provider_modules > "$out/provider-modules"
    mv "$provider.tmp" "$provider"
    echo "$provider_key" > "$provider.key"
}

build_compose() {
    local json dir w=$work/compose
    json=$("$GO" mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION")
    dir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    [ -d "$dir" ] || { echo "toolchain: no Dir for compose $COMPOSE_VERSION in: $json" >&2; return 1; }
    # go.mod's exclude directives only apply inside the module itself, so build there.
    rm -rf "$w"
    mkdir -p "$work"
    cp -r "$dir" "$w"
    chmod -R u+w "$w"
    cd "$w"
    timed "docker compose deps" download_deps ./cmd
    timed "docker compose compile" "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" \
        -o "$out/cli-plugins/docker-compose.tmp" ./cmd
    mv "$out/cli-plugins/docker-compose.tmp" "$out/cli-plugins/docker-compose"
    rm -rf "$w"
}

step "docker provider (plugin docker $DOCKER_PLUGIN_VERSION)" "$provider" build_provider
[ ! -e "$out/provider-modules" ] || sed 's/^/toolchain:   docker provider built from /' "$out/provider-modules"
step "docker compose $COMPOSE_VERSION" "$out/cli-plugins/docker-compose" build_compose

if [ -n "$pulumi_part" ]; then
    pulumi=$pulumi_part/bin/pulumi
    home=$pulumi_part/pulumi-home
    installed=$home/plugins/resource-docker-v$DOCKER_PLUGIN_VERSION
    if [ -e "$installed" ] && ! cmp -s "$provider" "$installed/pulumi-resource-docker"; then
        rm -rf "$installed" "$installed.lock"
    fi
    install_provider() {
        [ -x "$pulumi" ] || { echo "toolchain: no pulumi CLI at $pulumi" >&2; return 1; }
        [ -x "$provider" ] || { echo "toolchain: no docker provider built" >&2; return 1; }
        PULUMI_HOME=$home PULUMI_SKIP_UPDATE_CHECK=true \
            "$pulumi" plugin install resource docker "$DOCKER_PLUGIN_VERSION" --file "$provider"
        cmp -s "$provider" "$installed/pulumi-resource-docker" \
            || { echo "toolchain: plugin docker $DOCKER_PLUGIN_VERSION is not the built provider after install" >&2; return 1; }
    }
    step "plugin docker $DOCKER_PLUGIN_VERSION" "$installed" install_provider
fi

if [ "${#failed[@]}" -ne 0 ]; then
    echo "toolchain: failed: ${failed[*]} (outputs of the other steps are in $out)" >&2
    exit 1
fi
rmdir "$work" 2>/dev/null || true
echo "toolchain: docker ready in $out"
