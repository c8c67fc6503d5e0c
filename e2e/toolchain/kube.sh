#!/usr/bin/env bash
# Builds a small Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok) from Go modules alone, so the real-engine
# tests need nothing beyond the Go module proxy.
#
#   bash e2e/toolchain/kube.sh <outdir>     -> <outdir>/bin/{kube,kube-apiserver,...,etcd,kwok}
#
# Every step is skipped when its output already exists; callers key <outdir> by
# a hash of this file, so changing a version below starts from an empty outdir.
set -euo pipefail

K8S_VERSION=v1.36.4      # k8s.io/kubernetes; its staging modules are published as v0.<minor>.<patch>
ETCD_VERSION=v3.6.8      # the etcd the kubernetes release itself pins
KWOK_VERSION=v0.8.0      # built against k8s.io/* v0.36, so it shares the graph above

GO=${GO:-/usr/local/go/bin/go}

die() { echo "toolchain: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 <outdir>"
command -v "$GO" >/dev/null 2>&1 || die "go not found at $GO (set GO=...)"
mkdir -p "$1" || die "cannot create $1"
OUT=$(cd "$1" && pwd)
BIN=$OUT/bin
SRC=$OUT/src
mkdir -p "$BIN" "$SRC"

k8s_minor=${K8S_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
staging_version=v0.${K8S_VERSION#v1.}

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOWORK=off

step() { # step <name> <output> <function>
  local name=$1 output=$2 fn=$3 t0
  if [ -e "$output" ]; then
    echo "toolchain: $name cached"
    return
  fi
  t0=$(date +%s)
  "$fn" || die "step '$name' failed"
  [ -e "$output" ] || die "step '$name' did not produce $output"
  echo "toolchain: $name $(( $(date +%s) - t0 ))s"
}

# The wrapper module: kubernetes requires its staging modules at v0.0.0 and
# replaces them with ./staging paths that only exist in its own repository, so
# a consumer has to point each one at the published release instead.
write_module() {
  local gomod_json k8s_gomod tmp
  tmp=$SRC.tmp
  rm -rf "$tmp"; mkdir -p "$tmp"
  gomod_json=$(cd "$tmp" && "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION") || {
    printf '%s\n' "$gomod_json" >&2
    die "cannot download k8s.io/kubernetes@$K8S_VERSION"
  }
  k8s_gomod=$(printf '%s\n' "$gomod_json" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$k8s_gomod" ] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION"

  {
    echo "module kube-toolchain"
    echo
    echo "go 1.26.0"
    echo
    echo "require ("
    echo "	k8s.io/kubernetes $K8S_VERSION"
    echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo "	sigs.k8s.io/kwok $KWOK_VERSION"
    echo ")"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\([^[:space:]]*\) => \./staging/src/.*$#\1#p' "$k8s_gomod" |
      while read -r mod; do echo "	$mod => $mod $staging_version"; done
    echo ")"
  } >"$tmp/go.mod"
  grep -q 'k8s.io/client-go => k8s.io/client-go' "$tmp/go.mod" ||
    die "found no staging replaces in kubernetes' go.mod"

  cat >"$tmp/main.go" <<'GO'
// Command kube is one binary for the whole test control plane: the components
// share most of their dependency graph, so one link is much cheaper than six.
// It dispatches on the name it was invoked by (a symlink) or on its first
// argument: kube kubectl get pods.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kwokconfig "sigs.k8s.io/kwok/pkg/config"
	kwokcmd "sigs.k8s.io/kwok/pkg/kwok/cmd"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	kwoksignals "sigs.k8s.io/kwok/pkg/utils/signals"
)

var commands = map[string]func() int{
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kubectl":                 runKubectl,
	"etcd":                    func() int { etcdmain.Main(os.Args); return 0 },
	"kwok":                    runKwok,
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := commands[name]; !ok && len(os.Args) > 1 {
		// Cobra and etcd read os.Args themselves, so shift the sub-command into argv[0].
		name = os.Args[1]
		os.Args = os.Args[1:]
	}
	run, ok := commands[name]
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: kube {kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|etcd|kwok} [args...]")
		os.Exit(2)
	}
	os.Exit(run())
}

func runKubectl() int {
	if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err)
		return 1
	}
	return 0
}

func runKwok() int {
	// The kubernetes packages linked in here register a string-valued --version on
	// pflag.CommandLine at init; cobra merges that set into every command and then
	// refuses to run kwok, whose own --version is a bool. kwok needs none of them.
	pflag.CommandLine = pflag.NewFlagSet(os.Args[0], pflag.ExitOnError)
	// kwok takes its global flags (--config, logging) before building its command.
	flags := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flags.ParseErrorsAllowlist.UnknownFlags = true
	flags.Usage = func() {}
	ctx := kwoksignals.SetupSignalContext()
	ctx, logger := kwoklog.InitFlags(ctx, flags)
	ctx, err := kwokconfig.InitFlags(ctx, flags)
	if err != nil {
		fmt.Fprint(os.Stderr, flags.FlagUsages())
		logger.Error("init config flags", err)
		return 1
	}
	command := kwokcmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flags)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("kwok exited", err)
		return 1
	}
	return 0
}
GO
  (cd "$tmp" && "$GO" mod tidy) || die "go mod tidy failed for the wrapper module"
  rm -rf "$SRC" && mv "$tmp" "$SRC"
}

build_kube() {
  local date pkgs ldflags="-s -w" p
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # kubectl reports its client version from client-go, the servers from component-base;
  # the Pulumi provider refuses a server version it cannot parse.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  (cd "$SRC" && "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN/kube.tmp" .) || return 1
  mv "$BIN/kube.tmp" "$BIN/kube"
}

link_names() {
  local n
  for n in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok; do
    ln -sfn kube "$BIN/$n"
  done
}

step module "$SRC/go.sum" write_module
step kube "$BIN/kube" build_kube
link_names
"$BIN/kube-apiserver" --version >/dev/null || die "$BIN/kube does not run"
echo "toolchain: ready in $BIN ($("$BIN/kubectl" version --client 2>/dev/null | head -1))"
