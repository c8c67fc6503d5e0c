// Command pulumi-resource-docker is the `docker` resource plugin the @pulumi/docker package asks
// the engine for, built for this repository's real-engine suite: kreuzwerker's Terraform Docker
// provider (its SDKv2 half, as pulumi-docker serves it) bridged with pulumi-terraform-bridge.
//
// pulumi-docker's own provider module is not served by the Go module proxy; its parts are. This
// program configures the bridge the way pulumi-docker's provider/resources.go does, so every
// resource, property name and shape, default and replacement rule is the one @pulumi/docker's
// SDK was generated from:
//   - the upstream's resources under `docker:index/<name>:<Name>` tokens (docker_config is
//     ServiceConfig, docker_image is RemoteImage), its data sources as get<Name> functions
//     (the docker_image one is getRemoteImage);
//   - Container replaced delete-before-replace; its `command` and `networks_advanced` keep
//     their singular names;
//   - the provider's `host` defaults to DOCKER_HOST, else the local daemon's socket;
//     `registry_auth` is the list `registryAuth`;
//   - resources with a `name` are auto-named `<resource name>-<7 random characters>`.
//
// No schema is embedded: the engine and the Node.js SDK never ask a resource plugin for one to
// run a program, and the bridge maps properties from the Terraform schema and the rules above.
// The upstream's Compose resource is left out (`-tags no_compose`), as pulumi-docker builds it;
// pulumi-docker's native `docker:index/image:Image` is not served.
package main

import (
	"context"
	"encoding/json"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// version is the plugin version the @pulumi/docker SDK asks the engine for; the build sets it
// with -X main.version=....
var version = "5.2.0"

const (
	pkg = "docker"
	mod = "index"
	// The daemon the upstream provider talks to when neither the config nor DOCKER_HOST names one.
	defaultHost = "unix:///var/run/docker.sock"
)

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider()),
		Name:    pkg,
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {
				Default: &tfbridge.DefaultInfo{
					EnvVars: []string{"DOCKER_HOST"},
					ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (any, error) {
						return defaultHost, nil
					},
				},
			},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: tfbridge.MakeResource(pkg, mod, "ServiceConfig")},
			"docker_container": {
				Tok:                 tfbridge.MakeResource(pkg, mod, "Container"),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    tfbridge.MakeResource(pkg, mod, "RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: tfbridge.MakeDataSource(pkg, mod, "getRemoteImage")},
		},
	}
	// Every other resource and data source: docker_<name> becomes docker:index/<name>:<Name>
	// (or get<Name>).
	info.MustComputeTokens(tokens.SingleModule("docker_", mod, tokens.MakeStandard(pkg)))
	info.SetAutonaming(255, "-")
	return info
}

func main() {
	schema, err := json.Marshal(map[string]string{"name": pkg, "version": version})
	if err != nil {
		panic(err)
	}
	tfbridge.Main(pkg, version, providerInfo(), schema)
}
