// Command pulumi-resource-kubernetes is a STAND-IN for the pulumi-kubernetes
// resource provider (v4.34.2). It exists only for this repository's
// real-engine test suite: the Go module github.com/pulumi/pulumi-kubernetes/provider/v4
// cannot be obtained on the machines that run that suite, so the real plugin
// cannot be built there, and the suite installs this program as the
// `kubernetes` plugin instead. It is not a general replacement.
//
// What it does:
//   - manages exactly two resource types, kubernetes:apps/v1:Deployment and
//     kubernetes:core/v1:Service, through server-side apply (field manager
//     "pulumi-kubernetes") against the cluster named by the provider's
//     `kubeconfig`/`context` config or, failing that, KUBECONFIG;
//   - auto-names objects without metadata.name as "<name>-<8 chars>" and keeps
//     that name across updates, like the real provider;
//   - diffs old against new inputs, replacing on metadata.name,
//     metadata.namespace and a Deployment's spec.selector;
//   - waits for a Deployment's rollout the way the real provider does
//     (observedGeneration, Available, Progressing/NewReplicaSetAvailable,
//     updated replicas), honouring pulumi.com/timeoutSeconds and
//     pulumi.com/skipAwait, and reports a timeout as a partial failure that
//     carries the live object;
//   - reads, and deletes with foreground propagation, waiting until the
//     object is gone.
//
// What it does NOT do: it has no schema (GetSchema returns only the name and
// version), so it cannot generate SDKs; it handles no other kinds, no CRDs, no
// yaml/helm/kustomize components and no invokes; it does not implement
// renderYamlToDirectory, client-side apply (enableServerSideApply=false is
// ignored), upsert, patch resources, Service await (a Service is done once the
// API server accepts it) or the real provider's cluster-change replacement of
// the provider itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is what the engine matches against the SDK's requested plugin
// version; the build sets it with -X main.version=....
var version = "4.34.2"

const fieldManager = "pulumi-kubernetes"

func main() {
	err := provider.Main("kubernetes", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(host), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v\n", err)
		os.Exit(1)
	}
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer

	host *provider.HostClient

	// cancel is closed by the engine's Cancel call so that long awaits stop.
	cancelCtx context.Context
	cancel    context.CancelFunc

	mu      sync.Mutex
	cluster *cluster // nil until Configure succeeds with known config
	cfgErr  error    // why the cluster could not be set up, reported on first use
}

func newServer(host *provider.HostClient) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{host: host, cancelCtx: ctx, cancel: cancel}
}

// Marshaling options. Inputs are kept with their unknowns and secrets so that
// Check can hand them back unchanged apart from the name it assigns.
var (
	keepAll = plugin.MarshalOptions{
		Label: "standin", KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true,
	}
	plainIn = plugin.MarshalOptions{
		Label: "standin.plain", KeepUnknowns: true, KeepSecrets: true, SkipNulls: true,
	}
)

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	b, _ := json.Marshal(map[string]string{"name": "kubernetes", "version": version})
	return &pulumirpc.GetSchemaResponse{Schema: string(b)}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

// CheckConfig accepts whatever the SDK sends: the real provider's config keys
// are all optional and this stand-in ignores the ones it does not implement.
func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := plugin.UnmarshalProperties(req.GetNews(), keepAll)
	if err != nil {
		return nil, err
	}
	if v, ok := news["renderYamlToDirectory"]; ok && !v.IsNull() && !(v.IsString() && v.StringValue() == "") {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: []*pulumirpc.CheckFailure{{
			Property: "renderYamlToDirectory",
			Reason:   "renderYamlToDirectory is not supported by the kubernetes stand-in provider",
		}}}, nil
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := plainMap(req.GetOldInputs(), req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := plainMap(req.GetNews(), nil)
	if err != nil {
		return nil, err
	}
	// The engine adds "version" to provider inputs; a plugin upgrade is not a
	// configuration change of the cluster connection.
	delete(olds, "version")
	delete(news, "version")
	d := diffObjects(olds, news)
	if len(d) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: topLevel(d)}, nil
}

func (s *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	cfg := map[string]any{}
	if req.GetArgs() != nil {
		args, err := plugin.UnmarshalProperties(req.GetArgs(), plainIn)
		if err != nil {
			return nil, err
		}
		cfg = toPlain(resource.NewObjectProperty(args)).(map[string]any)
	} else {
		// Older engines send only flattened "kubernetes:config:<key>" variables.
		for k, v := range req.GetVariables() {
			cfg[k[strings.LastIndex(k, ":")+1:]] = v
		}
	}

	resp := &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.cluster, s.cfgErr = nil, nil
	for _, k := range []string{"kubeconfig", "context", "cluster", "namespace"} {
		if _, ok := cfg[k].(unknownValue); ok {
			// Only possible during a preview; nothing touches the cluster then.
			s.cfgErr = fmt.Errorf("provider config %q is not known yet", k)
			return resp, nil
		}
	}
	if v, _ := cfg["renderYamlToDirectory"].(string); v != "" {
		return nil, status.Error(codes.InvalidArgument,
			"renderYamlToDirectory is not supported by the kubernetes stand-in provider")
	}
	str := func(k string) string { v, _ := cfg[k].(string); return v }
	s.cluster, s.cfgErr = newCluster(str("kubeconfig"), str("context"), str("cluster"), str("namespace"))
	return resp, nil
}

func (s *server) client() (*cluster, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster == nil {
		if s.cfgErr != nil {
			return nil, s.cfgErr
		}
		return nil, fmt.Errorf("the kubernetes provider has not been configured")
	}
	return s.cluster, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	kind, err := kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), keepAll)
	if err != nil {
		return nil, err
	}
	var olds resource.PropertyMap
	if req.GetOlds() != nil {
		if olds, err = plugin.UnmarshalProperties(req.GetOlds(), keepAll); err != nil {
			return nil, err
		}
	}

	var failures []*pulumirpc.CheckFailure
	for k, want := range map[string]string{"apiVersion": kind.apiVersion(), "kind": kind.Kind} {
		v, ok := news[resource.PropertyKey(k)]
		switch {
		case !ok || v.IsNull():
			news[resource.PropertyKey(k)] = resource.NewProperty(want)
		case v.IsString() && v.StringValue() != want:
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: k, Reason: fmt.Sprintf("%s must be %q for %s", k, want, req.GetType()),
			})
		}
	}

	urnName := req.GetName()
	if urnName == "" {
		urnName = resource.URN(req.GetUrn()).Name()
	}
	if err := assignName(news, olds, urnName, req.GetRandomSeed()); err != nil {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "metadata", Reason: err.Error()})
	}

	inputs, err := plugin.MarshalProperties(news, keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	kind, err := kindOf(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := plainMap(req.GetOldInputs(), req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := plainMap(req.GetNews(), nil)
	if err != nil {
		return nil, err
	}

	changes := diffObjects(olds, news)
	if len(changes) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}

	ns := s.defaultNamespace()
	replaces := map[string]bool{}
	if nameOf(olds) != nameOf(news) {
		replaces["metadata.name"] = true
	}
	if namespaceOf(olds, ns) != namespaceOf(news, ns) {
		replaces["metadata.namespace"] = true
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, c := range changes {
		replace := false
		for _, prefix := range kind.replaceOn {
			if c.path == prefix || strings.HasPrefix(c.path, prefix+".") || strings.HasPrefix(c.path, prefix+"[") {
				replace = true
				replaces[prefix] = true
			}
		}
		if c.path == "metadata.name" || c.path == "metadata.namespace" {
			replace = replaces[c.path]
		}
		detailed[c.path] = &pulumirpc.PropertyDiff{Kind: c.kind(replace), InputDiff: true}
	}

	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_SOME,
		Diffs:           topLevel(changes),
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}
	for p := range replaces {
		resp.Replaces = append(resp.Replaces, p)
	}
	// An auto-named object is re-checked by the engine without its old inputs
	// and gets a fresh name, so it can be created before the old one goes. A
	// chosen name cannot exist twice, so the old object has to go first.
	if len(resp.Replaces) > 0 && !isAutonamed(news) {
		resp.DeleteBeforeReplace = true
	}
	return resp, nil
}

func (s *server) defaultNamespace() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster != nil && s.cluster.namespace != "" {
		return s.cluster.namespace
	}
	return "default"
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if req.GetPreview() {
		// Outputs not yet known stay unknown: returning the inputs leaves
		// everything else (status, uid, ...) unset, which the SDK treats as
		// unknown during a preview.
		return &pulumirpc.CreateResponse{Id: "", Properties: req.GetProperties()}, nil
	}
	id, props, err := s.apply(ctx, req.GetType(), req.GetUrn(), req.GetProperties(), req.GetTimeout(), true)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
	}
	_, props, err := s.apply(ctx, req.GetType(), req.GetUrn(), req.GetNews(), req.GetTimeout(), false)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	kind, c, ns, name, err := s.locate(req.GetType(), req.GetUrn(), req.GetId())
	if err != nil {
		return nil, err
	}
	live, err := c.get(ctx, kind, ns, name)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return &pulumirpc.ReadResponse{Id: ""}, nil
	}
	inputs := req.GetInputs()
	if inputs == nil || len(inputs.GetFields()) == 0 {
		// An import: the closest thing to the inputs is the object as declared,
		// without what the API server adds.
		if inputs, err = marshalPlain(declaredPart(live), nil); err != nil {
			return nil, err
		}
	} else {
		// A refresh: the inputs take the live values of the fields they set, so
		// the next diff against the program sees what was changed outside it
		// (kubectl rollout undo, kubectl edit) and puts the declared value back.
		old, err := plainMap(inputs, nil)
		if err != nil {
			return nil, err
		}
		oldProps, err := plugin.UnmarshalProperties(inputs, keepAll)
		if err != nil {
			return nil, err
		}
		if inputs, err = marshalPlain(overlay(old, live).(map[string]any), secretTopLevelKeys(oldProps)); err != nil {
			return nil, err
		}
	}
	var secretKeys map[string]bool
	if req.GetProperties() != nil {
		old, err := plugin.UnmarshalProperties(req.GetProperties(), keepAll)
		if err != nil {
			return nil, err
		}
		secretKeys = secretTopLevelKeys(old)
	}
	props, err := marshalPlain(live, secretKeys)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: inputs}, nil
}

// locate names the object a resource's id points at, and the cluster it lives in.
func (s *server) locate(typ, urn, id string) (kindInfo, *cluster, string, string, error) {
	kind, err := kindOf(typ, urn)
	if err != nil {
		return kindInfo{}, nil, "", "", err
	}
	c, err := s.client()
	if err != nil {
		return kindInfo{}, nil, "", "", err
	}
	ns, name, err := splitID(id, c.defaultNamespace())
	return kind, c, ns, name, err
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	kind, c, ns, name, err := s.locate(req.GetType(), req.GetUrn(), req.GetId())
	if err != nil {
		return nil, err
	}
	timeout := timeoutFor(nil, req.GetTimeout())
	if req.GetProperties() != nil {
		if props, err := plainMap(req.GetProperties(), nil); err == nil {
			timeout = timeoutFor(props, req.GetTimeout())
		}
	}
	ctx, stop := s.mergeCancel(ctx)
	defer stop()
	if err := c.deleteAndWait(ctx, kind, ns, name, timeout); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// mergeCancel ties a request's context to the provider-wide Cancel.
func (s *server) mergeCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.cancelCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// apply sends the object to the cluster and waits for it; a failed await is a
// partial failure that still records the live object in the engine's state.
func (s *server) apply(ctx context.Context, typ, urn string, in *structpb.Struct, timeoutSecs float64, create bool) (string, *structpb.Struct, error) {
	kind, err := kindOf(typ, urn)
	if err != nil {
		return "", nil, err
	}
	c, err := s.client()
	if err != nil {
		return "", nil, err
	}
	inputs, err := plugin.UnmarshalProperties(in, plainIn)
	if err != nil {
		return "", nil, err
	}
	obj, ok := toPlain(resource.NewObjectProperty(inputs)).(map[string]any)
	if !ok || containsUnknown(obj) {
		return "", nil, status.Error(codes.InvalidArgument, "inputs contain values that are not known yet")
	}
	secretKeys := secretTopLevelKeys(inputs)

	ctx, stop := s.mergeCancel(ctx)
	defer stop()

	ns := namespaceOf(obj, c.defaultNamespace())
	name := nameOf(obj)
	if name == "" {
		return "", nil, status.Error(codes.InvalidArgument, "metadata.name is empty")
	}
	setPath(obj, ns, "metadata", "namespace")
	id := ns + "/" + name

	if create {
		existing, err := c.get(ctx, kind, ns, name)
		if err != nil {
			return "", nil, err
		}
		if existing != nil {
			return "", nil, fmt.Errorf("%s %s already exists", kind.Kind, id)
		}
	}
	live, err := c.apply(ctx, kind, ns, name, obj)
	if err != nil {
		return "", nil, err
	}

	timeout := timeoutFor(obj, timeoutSecs)
	if kind.await != nil && !skipAwait(obj) {
		log := func(msg string) {
			if s.host != nil {
				_ = s.host.LogStatus(ctx, diag.Info, resource.URN(urn), msg)
			}
		}
		awaited, awaitErr := kind.await(ctx, c, ns, name, timeout, log)
		if awaited != nil {
			live = awaited
		}
		var ae *awaitError
		if errors.As(awaitErr, &ae) && ae.detail != "" && s.host != nil {
			_ = s.host.Log(ctx, diag.Warning, resource.URN(urn), ae.detail)
		}
		if awaitErr != nil {
			props, err := marshalPlain(live, secretKeys)
			if err != nil {
				return "", nil, err
			}
			st, err := status.New(codes.Unknown, awaitErr.Error()).WithDetails(&pulumirpc.ErrorResourceInitFailed{
				Id: id, Properties: props, Reasons: []string{awaitErr.Error()}, Inputs: in,
			})
			if err != nil {
				return "", nil, err
			}
			return "", nil, st.Err()
		}
	}
	props, err := marshalPlain(live, secretKeys)
	if err != nil {
		return "", nil, err
	}
	return id, props, nil
}
