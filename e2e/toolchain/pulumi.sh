#!/usr/bin/env bash
# Builds the Pulumi toolchain for the real-engine suite from Go modules only
# (no get.pulumi.com, no GitHub: `pulumi plugin install` cannot download here).
#
#   bash e2e/toolchain/pulumi.sh <outdir>
#
# Produces <outdir>/bin/{pulumi,pulumi-language-{nodejs,yaml,python,go},pulumi-resource-docker-build,
# pulumi-resource-kubernetes,buildkitd,buildctl} and a PULUMI_HOME at
# <outdir>/pulumi-home with the resource plugins installed. Every step is skipped
# when its output exists, so a populated <outdir> costs seconds. The caller keys
# <outdir> by a hash of this file and package.json, so any version change starts
# from an empty <outdir>. The Go module and build caches (GOMODCACHE, GOCACHE)
# are the machine's defaults and are what make a second cold <outdir> fast.
#
# Environment for Pulumi runs:
#   PATH=<outdir>/bin:$PATH                 (for the Automation API, which runs `pulumi`
#                                            from PATH; the CLI finds pulumi-language-nodejs
#                                            beside itself)
#   PULUMI_IGNORE_AMBIENT_PLUGINS=true      (providers come from PULUMI_HOME, not from the
#                                            pulumi-resource-* binaries on that PATH)
#   PULUMI_HOME=<outdir>/pulumi-home
#   PULUMI_BACKEND_URL=file://<state dir>
#   PULUMI_CONFIG_PASSPHRASE=<anything>
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
#   PULUMI_SKIP_UPDATE_CHECK=true
#   DOCKER_CONFIG=<dir>                     (where the buildx builder is registered)
#
# Image builds (docker-build): the provider drives BuildKit in-process through the
# buildx libraries and refuses the legacy "docker" driver, so it needs a buildx
# builder of the "remote" driver pointing at a buildkitd. No dockerd and no
# `docker buildx` binary are involved: a remote builder is only a JSON file in
# buildx's instance store ($DOCKER_CONFIG/buildx/instances/<name>). As root, with
# Debian's runc (`apt-get install -y runc`):
#
#   cat > "$RUN/buildkitd.toml" <<EOF
#   [registry."127.0.0.1:5000"]
#     http = true
#     insecure = true
#   EOF
#   <outdir>/bin/buildkitd --config "$RUN/buildkitd.toml" --root "$RUN/buildkit" \
#       --addr "unix://$RUN/buildkitd.sock" --oci-worker=true \
#       --oci-worker-binary=runc --containerd-worker=false &
#   <outdir>/bin/buildctl --addr "unix://$RUN/buildkitd.sock" debug workers  # ready?
#   mkdir -p "$DOCKER_CONFIG/buildx/instances"
#   printf '{"Name":"e2e","Driver":"remote","Nodes":[{"Name":"e2e0","Endpoint":"unix://%s","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}\n' \
#       "$RUN/buildkitd.sock" > "$DOCKER_CONFIG/buildx/instances/e2e"
#
# and the program names it: new dockerbuild.Image(..., { builder: { name: "e2e" }, ... }).
# The registry at 127.0.0.1:5000 is plain HTTP, hence the buildkitd.toml entry.
#
# What the Go module proxy reachable here does not serve, and what this script
# does about it (each is a pinned variable below):
#   - the CLI is github.com/pulumi/pulumi/pkg/v3 at PULUMI_CLI_VERSION; the Node.js
#     SDK stays at the package.json version users get from npm.
#   - the nested module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
#     is not served at any version, so bin/pulumi-language-nodejs is a small
#     language host written here (see language_host_source) that starts the
#     @pulumi/pulumi package's own `cmd/run` entry point, the same script the
#     upstream host starts, with the flags and environment it reads. Like the
#     upstream host it runs component packages (RunPlugin of kind "resource", with
#     @pulumi/pulumi's run-plugin) and installs dependencies (InstallDependencies,
#     which `pulumi package add`, `package get-schema` and `install` read as a
#     stream). It reports no required plugins or packages, so nothing is
#     downloaded; its version carries "+toolchain" to tell it from the upstream host.
#   - the Python and Go language host modules are not served either: for `pulumi
#     package gen-sdk`, bin/pulumi-language-{python,go} answer GeneratePackage with
#     the CLI's own generators (see codegen_host_source) and run no programs.
#   - the YAML language host is github.com/pulumi/pulumi-yaml at YAML_VERSION, built
#     in its own module (it pins pulumi v3.206.0 and does not compile against the
#     CLI's version). It sits beside pulumi-language-nodejs, which runs a Node.js
#     component package for a YAML program.
#   - github.com/pulumi/pulumi-java and pulumi-dotnet's language module are not
#     served; docker-build imports them only for the Java/C# sections of its
#     schema, so two local modules declaring those option structs replace them.
#   - the kubernetes provider is the real github.com/pulumi/pulumi-kubernetes/provider/v4
#     at KUBERNETES_MODULE_VERSION, the one version of it the proxy serves (a commit of
#     the 4.24 line). It is installed as the plugin version the npm SDK asks for
#     (KUBERNETES_VERSION), so the engine loads it without a version warning; the
#     suite's version log says which module version that plugin was built from.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

npm_version() {
    # @pulumi/pulumi is a peer dependency of the package, installed for its development.
    node -p "const m = require(process.argv[1]); ({ ...m.devDependencies, ...m.dependencies })[process.argv[2]]" "$repo/package.json" "$1"
}

# The Node.js SDK and provider SDK versions the suite runs against.
PULUMI_SDK_VERSION=$(npm_version @pulumi/pulumi)           # 3.270.0
KUBERNETES_VERSION=$(npm_version @pulumi/kubernetes)       # 4.34.2
DOCKER_BUILD_VERSION=$(npm_version @pulumi/docker-build)   # 0.0.22
PULUMI_CLI_VERSION=3.274.1
# The pulumi-kubernetes provider module the kubernetes plugin is built from.
KUBERNETES_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199
# The YAML language host (no Link method: `pulumi package add` in a YAML project fails at
# Link with this CLI; preview and up never call it).
YAML_VERSION=1.25.0
# docker-build 0.0.22 is built against the v0.31 BuildKit client.
BUILDKIT_VERSION=0.31.2

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || { echo "toolchain: no go binary (set GO=)" >&2; exit 1; }
command -v node >/dev/null || { echo "toolchain: node is required" >&2; exit 1; }

out=${1:?usage: pulumi.sh <outdir>}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/bin
home=$out/pulumi-home
work=$out/.work
mkdir -p "$bin" "$home"

# The module copies live outside any VCS checkout; never stamp or edit them.
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local
# The CLI and providers are pure Go; static binaries do not care which libc the
# suite's machine has.
export CGO_ENABLED=0

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

# Times the module downloads of a build apart from the compile.
timed() {
    local label=$1 start
    shift
    start=$(date +%s)
    "$@"
    echo "toolchain:   $label $(( $(date +%s) - start ))s"
}

# Copies MODULE@VERSION out of the module cache into DEST, writable, for builds
# that must run inside the module (its replace and exclude directives only apply
# there).
module_copy() {
    local module=$1 version=$2 dest=$3 json dir
    if ! json=$("$GO" mod download -json "$module@$version" 2>&1); then
        echo "toolchain: cannot download Go module $module@$version:" >&2
        echo "$json" >&2
        return 1
    fi
    dir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    [ -d "$dir" ] || { echo "toolchain: no Dir for $module@$version in: $json" >&2; return 1; }
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    cp -r "$dir" "$dest"
    chmod -R u+w "$dest"
}

# Downloads exactly the modules the named packages need.
download_deps() {
    "$GO" list -deps "$@" >/dev/null
}

build_pulumi_cli() {
    local w=$work/pulumi
    # pkg/go.mod replaces the SDK with ../sdk, so the two modules sit side by side.
    timed "pulumi cli download" module_copy github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_CLI_VERSION" "$w/pkg"
    module_copy github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_CLI_VERSION" "$w/sdk"
    cd "$w/pkg"
    timed "pulumi cli deps" download_deps ./cmd/pulumi
    timed "pulumi cli compile" "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
        -o "$w/pulumi" ./cmd/pulumi
    local v
    v=$("$w/pulumi" version)
    [ "$v" = "v$PULUMI_CLI_VERSION" ] || { echo "toolchain: pulumi version printed '$v'" >&2; return 1; }
    mv "$w/pulumi" "$bin/pulumi"
    rm -rf "$w"
}

language_host_source() {
    cat <<'EOF'
// Command pulumi-language-nodejs serves the Pulumi LanguageRuntime gRPC service for
// Node.js programs by starting the @pulumi/pulumi package's own `cmd/run` entry point
// (resolved from the program's node_modules) with the flags and environment it reads.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

var version = "3.0.0"

// The exit code @pulumi/pulumi's run script uses once it has reported the error
// itself; the engine is then told to bail instead of printing a second one.
const exitAfterLoggedError = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func main() {
	h := &host{}
	// The engine passes its address as the last positional argument.
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-") {
			h.engine = a
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engine = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// No plugin is reported: plugins cannot be downloaded here, and the engine loads
// a provider from PULUMI_HOME when a resource first names it.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// The run script must come from the program's own @pulumi/pulumi so that the
// program and the runtime share one copy of the SDK.
func resolveRunScript(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "node", "-e",
		"process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run', {paths: [process.argv[1]]}))", dir).Output()
	if err != nil {
		return "", fmt.Errorf("cannot find @pulumi/pulumi from %s (run npm install there): %w", dir, err)
	}
	return filepath.Dir(string(out)), nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts := req.GetInfo().GetOptions().AsMap()
	dir := req.GetPwd()
	if pd := req.GetInfo().GetProgramDirectory(); pd != "" {
		dir = pd
	}
	run, err := resolveRunScript(ctx, dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	var args []string
	if s, ok := opts["nodeargs"].(string); ok {
		args = append(args, strings.Fields(s)...)
	}
	args = append(args, run)
	flag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engine)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 1 {
		flag("parallel", fmt.Sprint(req.GetParallel()))
	}
	program := req.GetProgram()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	// A stack without config is an empty map to the SDK, never null.
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(cfg), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	// Pulumi.yaml's runtime options; TypeScript is on unless turned off there.
	typescript := true
	if b, ok := opts["typescript"].(bool); ok {
		typescript = b
	}
	env = append(env, fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", typescript))
	if s, ok := opts["tsconfig"].(string); ok && s != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+s)
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() == exitAfterLoggedError {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exit.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin starts a Node.js plugin program, as the upstream host does. A policy pack
// (kind "analyzer") runs under the SDK's run-policy-pack script from the pack's own
// @pulumi/pulumi, in the pack's directory. A component package (kind "resource": a
// directory with PulumiPlugin.yaml) runs under run-plugin, found from the plugin's
// directory, with the plugin's directory and the engine's arguments, in the working
// directory the engine names (the consumer's). Either way the output is streamed back;
// its first line is the plugin's port.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() == "analyzer" {
		return h.runPolicyPack(req, server)
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	dir := req.GetInfo().GetProgramDirectory()
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath = "@pulumi/pulumi/cmd/run-plugin"
	}
	out, err := exec.CommandContext(server.Context(), "node", "-e",
		"process.stdout.write(require.resolve(process.argv[1], {paths: [process.argv[2]]}))", runPath, dir).Output()
	if err != nil {
		return fmt.Errorf("It looks like the Pulumi SDK has not been installed. Have you run npm install in %s? (%w)", dir, err)
	}
	opts := req.GetInfo().GetOptions().AsMap()
	var args []string
	if s, ok := opts["nodeargs"].(string); ok {
		args = append(args, strings.Fields(s)...)
	}
	args = append(args, string(out), dir)
	args = append(args, req.GetArgs()...)
	env := append(os.Environ(), req.GetEnv()...)
	if b, ok := opts["typescript"].(bool); !ok || b {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if s, ok := opts["tsconfig"].(string); ok && s != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+s)
	}
	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("Program exited with non-zero exit code: %d", exit.ExitCode())
		}
		return fmt.Errorf("Problem executing plugin program (could not run language executor): %w", err)
	}
	return closer.Close()
}

func (h *host) runPolicyPack(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	out, err := exec.CommandContext(server.Context(), "node", "-e",
		"process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run-policy-pack', {paths: [process.argv[1]]}))", dir).Output()
	if err != nil {
		return fmt.Errorf("cannot find @pulumi/pulumi/cmd/run-policy-pack from %s (run npm install there): %w", dir, err)
	}
	args := append([]string{filepath.Dir(string(out))}, req.GetArgs()...)
	args = append(args, ".")
	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	var sending sync.Mutex
	send := func(response *pulumirpc.RunPluginResponse) error {
		sending.Lock()
		defer sending.Unlock()
		return server.Send(response)
	}
	cmd.Stdout = streamWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	})
	cmd.Stderr = streamWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = int32(exit.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// InstallDependencies installs a program's or a plugin's packages as the upstream host
// does: with the package manager the options or lock files name, at the root of the
// npm, yarn or pnpm workspace the directory belongs to, streaming its output. `pulumi
// install`, `pulumi package add` and `pulumi package get-schema` call it, and read the
// stream: without it they fail at the first read. (Node.js versions from .nvmrc are
// not installed: there is no fnm here.)
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	root, err := npm.FindWorkspaceRoot(dir)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", root)
	case errors.Is(err, npm.ErrNotInWorkspace):
		root = dir
	default:
		return fmt.Errorf("failure while trying to find workspace root: %w", err)
	}
	opts := req.GetInfo().GetOptions().AsMap()
	manager := npm.AutoPackageManager
	if s, ok := opts["packagemanager"].(string); ok && s != "" {
		manager = npm.PackageManagerType(s)
	}
	production, _ := opts["production"].(bool)
	if _, err := npm.Install(server.Context(), manager, root, production, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// streamWriter sends every write on the plugin's stream, one message each, as a
// copy: the caller reuses its buffer.
type streamWriter func([]byte) error

func (w streamWriter) Write(b []byte) (int, error) {
	if err := w(append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
EOF
}

codegen_host_source() {
    cat <<'EOF'
// Command pulumi-language-<python|go> answers the one request `pulumi package gen-sdk` makes
// of a language host, GeneratePackage, with the CLI's own code generator for that language
// (pkg/codegen/python, pkg/codegen/go), exactly as the upstream hosts do. The upstream hosts'
// modules are not served here; this host runs no programs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Set at link time: python or go.
var (
	language = ""
	version  = "3.0.0"
)

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

func main() {
	if language != "python" && language != "go" {
		fmt.Fprintf(os.Stderr, "built for no language (%q)\n", language)
		os.Exit(1)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, &host{})
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func (h *host) Handshake(context.Context, *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GeneratePackage(_ context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	if language == "go" && len(req.ExtraFiles) > 0 {
		return nil, errors.New("overlays are not supported for Go")
	}
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(loader), schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	diagnostics := plugin.HclDiagnosticsToRPCDiagnostics(diags)
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: diagnostics}, nil
	}
	var files map[string][]byte
	if language == "python" {
		files, err = pygen.GeneratePackage("pulumi-language-python", pkg, req.ExtraFiles, schema.NewCachedLoader(loader))
	} else {
		files, err = gogen.GeneratePackage("pulumi-language-go", pkg, req.LocalDependencies)
	}
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		out := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return nil, fmt.Errorf("could not create output directory %s: %w", filepath.Dir(name), err)
		}
		if err := os.WriteFile(out, data, 0o600); err != nil {
			return nil, fmt.Errorf("could not write output file %s: %w", name, err)
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: diagnostics}, nil
}
EOF
}

# pulumi-language-python and pulumi-language-go: `pulumi package gen-sdk` asks the language's
# host to generate an SDK, and those hosts' modules are not served. This host answers that one
# request with the CLI's own generators; it is built inside the CLI's module, whose go.mod it
# shares, once per language.
build_codegen_hosts() {
    local w=$work/codegen language
    module_copy github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_CLI_VERSION" "$w/pkg"
    module_copy github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_CLI_VERSION" "$w/sdk"
    mkdir -p "$w/pkg/cmd/released-service-codegen"
    codegen_host_source > "$w/pkg/cmd/released-service-codegen/main.go"
    cd "$w/pkg"
    for language in python go; do
        timed "codegen host $language compile" "$GO" build -trimpath \
            -ldflags "-s -w -X main.language=$language -X main.version=$PULUMI_CLI_VERSION+toolchain" \
            -o "$w/pulumi-language-$language" ./cmd/released-service-codegen
    done
    mv "$w/pulumi-language-go" "$bin/pulumi-language-go"
    mv "$w/pulumi-language-python" "$bin/pulumi-language-python"
    rm -rf "$w"
}

build_language_host() {
    local w=$work/language-nodejs
    rm -rf "$w"
    mkdir -p "$w"
    cd "$w"
    language_host_source > main.go
    # Same SDK module as the CLI: the SDK at the npm version needs a go-git
    # pre-release the proxy does not serve.
    cat > go.mod <<EOF
module pulumi-toolchain/language-nodejs

go 1.26

require github.com/pulumi/pulumi/sdk/v3 v$PULUMI_CLI_VERSION
EOF
    timed "language host deps" env GOFLAGS=-buildvcs=false "$GO" mod tidy
    timed "language host compile" "$GO" build -trimpath \
        -ldflags "-s -w -X main.version=$PULUMI_SDK_VERSION+toolchain" -o "$w/pulumi-language-nodejs" .
    mv "$w/pulumi-language-nodejs" "$bin/pulumi-language-nodejs"
    rm -rf "$w"
}

build_yaml() {
    local w=$work/yaml
    # Built inside its own module, whose go.mod pins the pulumi modules it compiles with.
    timed "yaml download" module_copy github.com/pulumi/pulumi-yaml "v$YAML_VERSION" "$w"
    cd "$w"
    timed "yaml deps" download_deps ./cmd/pulumi-language-yaml
    timed "yaml compile" "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" \
        -o "$w/pulumi-language-yaml" ./cmd/pulumi-language-yaml
    mv "$w/pulumi-language-yaml" "$bin/pulumi-language-yaml"
    rm -rf "$w"
}

build_docker_build() {
    local w=$work/docker-build
    timed "docker-build download" module_copy github.com/pulumi/pulumi-docker-build "v$DOCKER_BUILD_VERSION" "$w"
    cd "$w"
    # The Java and C# package-info types are only written into the schema's
    # language section; their modules are not served, so declare them locally.
    mkdir -p .stub/java/pkg/codegen/java .stub/dotnet/codegen
    printf 'module github.com/pulumi/pulumi-java\n\ngo 1.21\n' > .stub/java/go.mod
    cat > .stub/java/pkg/codegen/java/java.go <<'EOF'
package java

type PackageInfo struct {
	BuildFiles                      string            `json:"buildFiles,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion,omitempty"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
}
EOF
    printf 'module github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3\n\ngo 1.21\n' > .stub/dotnet/go.mod
    cat > .stub/dotnet/codegen/codegen.go <<'EOF'
package codegen

type CSharpPackageInfo struct {
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
}
EOF
    "$GO" mod edit \
        -replace github.com/pulumi/pulumi-java=./.stub/java \
        -replace github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=./.stub/dotnet
    timed "docker-build deps" download_deps ./provider/cmd/pulumi-resource-docker-build
    timed "docker-build compile" "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-docker-build/provider.Version=$DOCKER_BUILD_VERSION" \
        -o "$w/pulumi-resource-docker-build" ./provider/cmd/pulumi-resource-docker-build
    mv "$w/pulumi-resource-docker-build" "$bin/pulumi-resource-docker-build"
    rm -rf "$w"
}

# The provider's own main embeds schema-embed.json and terraform-mapping-embed.json,
# which its generate.go derives from schema.json (version stamped in) and
# terraform-mapping.json. Its go.mod replaces the SDK module with ../sdk, which
# only exists in its repository, so a wrapper module of our own requires the
# provider, writes those two files from the module's copies, and serves it.
build_kubernetes() {
    local w=$work/kubernetes json module sdk_version
    rm -rf "$w"
    mkdir -p "$w"
    cd "$w"
    json=$("$GO" mod download -json "github.com/pulumi/pulumi-kubernetes/provider/v4@$KUBERNETES_MODULE_VERSION") || {
        echo "toolchain: cannot download pulumi-kubernetes/provider/v4@$KUBERNETES_MODULE_VERSION:" >&2
        echo "$json" >&2
        return 1
    }
    module=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    node -e '
        const fs = require("fs");
        const [from, version] = process.argv.slice(1);
        const schema = JSON.parse(fs.readFileSync(`${from}/schema.json`, "utf8"));
        schema.version = version;
        fs.writeFileSync("schema-embed.json", JSON.stringify(schema));
        fs.writeFileSync("terraform-mapping-embed.json",
            JSON.stringify(JSON.parse(fs.readFileSync(`${from}/terraform-mapping.json`, "utf8"))));
    ' "$module/cmd/pulumi-resource-kubernetes" "$KUBERNETES_VERSION"
    cat > main.go <<'EOF'
// Command pulumi-resource-kubernetes serves the pulumi-kubernetes provider module with
// the schema and Terraform mapping generated from that module's own files.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
EOF
    # The SDK module the provider's go.mod requires (its replace applies only there).
    sdk_version=$(sed -n 's|^[[:space:]]*github.com/pulumi/pulumi-kubernetes/sdk/v4 \(v[^ ]*\)$|\1|p' "$module/go.mod")
    cat > go.mod <<EOF
module pulumi-toolchain/kubernetes

go 1.26

require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 $KUBERNETES_MODULE_VERSION
	github.com/pulumi/pulumi-kubernetes/sdk/v4 $sdk_version
)
EOF
    timed "kubernetes deps" env GOFLAGS=-buildvcs=false "$GO" mod tidy
    timed "kubernetes compile" "$GO" build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" \
        -o "$w/pulumi-resource-kubernetes" .
    echo "$KUBERNETES_MODULE_VERSION" > "$out/kubernetes-module-version"
    mv "$w/pulumi-resource-kubernetes" "$bin/pulumi-resource-kubernetes"
    rm -rf "$w"
}

build_buildkit() {
    local w=$work/buildkit
    # buildkit's go.mod has exclude directives, honoured only inside the module.
    timed "buildkit download" module_copy github.com/moby/buildkit "v$BUILDKIT_VERSION" "$w"
    cd "$w"
    timed "buildkit deps" download_deps ./cmd/buildkitd ./cmd/buildctl
    local ld="-s -w -X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit"
    # The tags of buildkit's own release build.
    timed "buildkitd compile" "$GO" build -trimpath -tags "osusergo netgo static_build seccomp" \
        -ldflags "$ld" -o "$w/buildkitd" ./cmd/buildkitd
    timed "buildctl compile" "$GO" build -trimpath -ldflags "$ld" -o "$w/buildctl" ./cmd/buildctl
    "$w/buildkitd" --version
    mv "$w/buildctl" "$bin/buildctl"
    mv "$w/buildkitd" "$bin/buildkitd"
    rm -rf "$w"
}

install_plugin() {
    local name=$1 version=$2
    [ -x "$bin/pulumi" ] || { echo "toolchain: no pulumi CLI to install $name with" >&2; return 1; }
    [ -x "$bin/pulumi-resource-$name" ] || { echo "toolchain: no pulumi-resource-$name built" >&2; return 1; }
    PULUMI_HOME=$home PULUMI_SKIP_UPDATE_CHECK=true \
        "$bin/pulumi" plugin install resource "$name" "$version" --file "$bin/pulumi-resource-$name"
    PULUMI_HOME=$home PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" plugin ls --json \
        | node -e '
            const [name, version] = process.argv.slice(1);
            const ls = JSON.parse(require("fs").readFileSync(0, "utf8"));
            if (!ls.some(p => p.kind === "resource" && p.name === name && p.version === version)) {
                console.error(`toolchain: plugin ls does not list resource ${name} ${version}`);
                process.exit(1);
            }' "$name" "$version"
}
install_kubernetes() { install_plugin kubernetes "$KUBERNETES_VERSION"; }
install_docker_build() { install_plugin docker-build "$DOCKER_BUILD_VERSION"; }

step "pulumi cli v$PULUMI_CLI_VERSION" "$bin/pulumi" build_pulumi_cli
step "pulumi-language-nodejs" "$bin/pulumi-language-nodejs" build_language_host
step "pulumi-language-python and -go (code generation)" "$bin/pulumi-language-python" build_codegen_hosts
step "pulumi-language-yaml v$YAML_VERSION" "$bin/pulumi-language-yaml" build_yaml
step "docker-build provider v$DOCKER_BUILD_VERSION" "$bin/pulumi-resource-docker-build" build_docker_build
step "kubernetes provider $KUBERNETES_MODULE_VERSION" "$bin/pulumi-resource-kubernetes" build_kubernetes
step "buildkit v$BUILDKIT_VERSION" "$bin/buildkitd" build_buildkit
step "plugin docker-build" "$home/plugins/resource-docker-build-v$DOCKER_BUILD_VERSION" install_docker_build
step "plugin kubernetes" "$home/plugins/resource-kubernetes-v$KUBERNETES_VERSION" install_kubernetes

if [ "${#failed[@]}" -ne 0 ]; then
    echo "toolchain: failed: ${failed[*]} (outputs of the other steps are in $out)" >&2
    exit 1
fi
rmdir "$work" 2>/dev/null || true
echo "toolchain: ready in $out"
