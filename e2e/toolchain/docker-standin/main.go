// Command pulumi-resource-docker is a STAND-IN for the pulumi-docker resource
// provider (the `docker` plugin the @pulumi/docker package asks for). It exists
// only for this repository's real-engine test suite: the real provider is
// bridged from kreuzwerker/terraform-provider-docker through a patched git
// submodule, and neither github.com/pulumi/pulumi-docker/provider/* nor the
// Terraform provider's module can be obtained on the machines that run the
// suite, so the real plugin cannot be built there. The suite installs this
// program as the `docker` plugin instead. It is not a general replacement.
//
// What it does, against the Docker Engine named by the provider's `host`
// config or DOCKER_HOST, through the Engine's own Go client:
//   - docker:index/container:Container: name (auto-named "<name>-<7 hex>" when
//     not given, like the real provider), image (pulled when missing), ports,
//     envs, restart, healthcheck, networkMode, mustRun, wait/waitTimeout.
//     Every input except the few the real provider updates in place (restart,
//     maxRetryCount, memory, memorySwap, cpuShares, cpuSet and the provider-side
//     settings wait, waitTimeout, mustRun, destroyGraceSeconds, removeVolumes)
//     forces a replacement, and replacements delete the old container first,
//     as pulumi-docker configures containers. Create waits until the container
//     runs (and, with `wait`, until its health check says healthy); a container
//     that does not is removed and the create fails. The `image` output is the
//     reference given (e.g. repo@sha256:...).
//   - docker:index/service:Service: name, taskSpec.containerSpec (image, env,
//     args, commands, healthcheck, labels, stopGracePeriod), mode (replicated.replicas or global),
//     endpointSpec.ports, labels, updateConfig, rollbackConfig and
//     convergeConfig. name and mode force a replacement; everything else is an
//     in-place ServiceUpdate. With convergeConfig a create waits until the
//     wanted number of tasks run (and removes the service when they do not
//     within the timeout), and an update polls the service's UpdateStatus and
//     fails on rollback_completed, paused and rollback_paused with the real
//     provider's messages ("service rollback completed: ...", ...); the failed
//     update is recorded with its new inputs, as the bridged provider records it.
//   - Read looks at the live object: a container or service that is gone
//     leaves the state, and a service's image, env and replicas are read back
//     from Swarm, so a refresh sees `docker service rollback`.
//
// What it does NOT do: no other resource types, no invokes (getRegistryImage,
// ...), no schema (GetSchema returns only the name and version), no registry
// authentication (registryAuth is ignored: the suite's registry is plain HTTP on
// loopback), no TLS or SSH connections to the daemon, and none of the other
// Container and Service inputs (volumes, mounts, networks, configs, secrets,
// placement, resources, ...), which are refused by Check rather than ignored.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/docker/docker/client"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is the plugin version the @pulumi/docker SDK asks the engine for;
// the build sets it with -X main.version=....
var version = "5.2.0"

const (
	containerType = "docker:index/container:Container"
	serviceType   = "docker:index/service:Service"
)

func main() {
	err := provider.Main("docker", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(host), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-docker: %v\n", err)
		os.Exit(1)
	}
}

// kind is what the server needs of one resource type.
type kind interface {
	// check validates inputs and fills in the defaults the real provider adds.
	check(news, olds map[string]any, urnName string, seed []byte) (map[string]any, []*pulumirpc.CheckFailure)
	// replaceOn names the top-level inputs whose change forces a replacement.
	replaceOn(key string) bool
	deleteBeforeReplace(olds, news map[string]any) bool
	create(ctx context.Context, d *daemon, inputs map[string]any) (string, map[string]any, error)
	read(ctx context.Context, d *daemon, id string, inputs map[string]any) (map[string]any, map[string]any, error)
	update(ctx context.Context, d *daemon, id string, olds, news map[string]any) (map[string]any, error)
	delete(ctx context.Context, d *daemon, id string, inputs map[string]any) error
}

func kindOf(typ string) (kind, error) {
	switch typ {
	case containerType:
		return containerKind{}, nil
	case serviceType:
		return serviceKind{}, nil
	}
	return nil, status.Errorf(codes.Unimplemented,
		"the docker stand-in provider implements only %s and %s, not %s", containerType, serviceType, typ)
}

// daemon is the Docker Engine the provider talks to, and how it reports progress.
type daemon struct {
	*client.Client
	log func(msg string)
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer

	host      *provider.HostClient
	cancelCtx context.Context
	cancel    context.CancelFunc

	mu     sync.Mutex
	client *client.Client
	cfgErr error
}

func newServer(host *provider.HostClient) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{host: host, cancelCtx: ctx, cancel: cancel}
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	b, _ := json.Marshal(map[string]string{"name": "docker", "version": version})
	return &pulumirpc.GetSchemaResponse{Schema: string(b)}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs []string
	for _, k := range changedKeys(olds.values, news.values) {
		// The engine adds "version"; a plugin upgrade is not a new daemon.
		if k != "version" {
			diffs = append(diffs, k)
		}
	}
	if len(diffs) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs}, nil
}

func (s *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	cfg := map[string]any{}
	if req.GetArgs() != nil {
		args, err := unmarshal(req.GetArgs())
		if err != nil {
			return nil, err
		}
		cfg = args.values
	} else {
		for k, v := range req.GetVariables() {
			cfg[k[strings.LastIndex(k, ":")+1:]] = v
		}
	}
	resp := &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.client, s.cfgErr = nil, nil
	if isUnknown(cfg["host"]) {
		s.cfgErr = fmt.Errorf("provider config \"host\" is not known yet")
		return resp, nil
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if h, _ := cfg["host"].(string); h != "" {
		opts = append(opts, client.WithHost(h))
	}
	s.client, s.cfgErr = client.NewClientWithOpts(opts...)
	return resp, nil
}

func (s *server) daemon(ctx context.Context, urn string) (*daemon, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		if s.cfgErr != nil {
			return nil, s.cfgErr
		}
		return nil, fmt.Errorf("the docker provider has not been configured")
	}
	return &daemon{Client: s.client, log: func(msg string) {
		if s.host != nil {
			_ = s.host.LogStatus(ctx, diag.Info, resource.URN(urn), msg)
		}
	}}, nil
}

// withCancel ties a request's context to the provider-wide Cancel.
func (s *server) withCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.cancelCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var olds map[string]any
	if req.GetOlds() != nil {
		o, err := unmarshal(req.GetOlds())
		if err != nil {
			return nil, err
		}
		olds = o.values
	}
	urnName := req.GetName()
	if urnName == "" {
		urnName = resource.URN(req.GetUrn()).Name()
	}
	checked, failures := k.check(news.values, olds, urnName, req.GetRandomSeed())
	inputs, err := marshal(checked, news.secrets)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	olds, err := unmarshal(oldStruct)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	changed := changedKeys(olds.values, news.values)
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for _, key := range changed {
		_, inOld := olds.values[key]
		_, inNew := news.values[key]
		d := &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
		switch {
		case !inOld:
			d.Kind = pulumirpc.PropertyDiff_ADD
		case !inNew:
			d.Kind = pulumirpc.PropertyDiff_DELETE
		}
		if k.replaceOn(key) {
			resp.Replaces = append(resp.Replaces, key)
			d.Kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
		}
		resp.DetailedDiff[key] = d
	}
	if len(resp.Replaces) > 0 {
		resp.DeleteBeforeReplace = k.deleteBeforeReplace(olds.values, news.values)
	}
	return resp, nil
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
	}
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if in.unknown {
		return nil, status.Error(codes.InvalidArgument, "inputs contain values that are not known yet")
	}
	d, err := s.daemon(ctx, req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, stop := s.withCancel(ctx)
	defer stop()
	id, outs, err := k.create(ctx, d, in.values)
	if err != nil && id == "" {
		return nil, err
	}
	props, merr := marshal(outs, in.secrets)
	if merr != nil {
		return nil, merr
	}
	if err != nil {
		// Created but not ready: recorded with the error, as the real provider does.
		return nil, partialFailure(id, props, req.GetProperties(), err)
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (s *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	inputs := map[string]any{}
	secrets := map[string]bool{}
	if req.GetInputs() != nil {
		in, err := unmarshal(req.GetInputs())
		if err != nil {
			return nil, err
		}
		inputs, secrets = in.values, in.secrets
	}
	d, err := s.daemon(ctx, req.GetUrn())
	if err != nil {
		return nil, err
	}
	outs, liveInputs, err := k.read(ctx, d, req.GetId(), inputs)
	if err != nil {
		return nil, err
	}
	if outs == nil {
		return &pulumirpc.ReadResponse{}, nil
	}
	props, err := marshal(outs, secrets)
	if err != nil {
		return nil, err
	}
	ins, err := marshal(liveInputs, secrets)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: ins}, nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
	}
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	olds, err := unmarshal(oldStruct)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	d, err := s.daemon(ctx, req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, stop := s.withCancel(ctx)
	defer stop()
	outs, err := k.update(ctx, d, req.GetId(), olds.values, news.values)
	if err != nil {
		if outs == nil {
			return nil, err
		}
		// The update was sent but did not converge: the resource now has the new
		// inputs, and the engine records them with the error (a partial failure).
		props, merr := marshal(outs, news.secrets)
		if merr != nil {
			return nil, merr
		}
		return nil, partialFailure(req.GetId(), props, req.GetNews(), err)
	}
	props, err := marshal(outs, news.secrets)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	k, err := kindOf(req.GetType())
	if err != nil {
		return nil, err
	}
	props := req.GetOldInputs()
	if props == nil {
		props = req.GetProperties()
	}
	in, err := unmarshal(props)
	if err != nil {
		return nil, err
	}
	d, err := s.daemon(ctx, req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, stop := s.withCancel(ctx)
	defer stop()
	if err := k.delete(ctx, d, req.GetId(), in.values); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// partialFailure reports an error for a resource that exists with the given
// state: the engine records it and fails the update.
func partialFailure(id string, props, inputs *structpb.Struct, err error) error {
	st, serr := status.New(codes.Unknown, err.Error()).WithDetails(&pulumirpc.ErrorResourceInitFailed{
		Id: id, Properties: props, Reasons: []string{err.Error()}, Inputs: inputs,
	})
	if serr != nil {
		return serr
	}
	return st.Err()
}
