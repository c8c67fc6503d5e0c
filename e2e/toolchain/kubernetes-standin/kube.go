package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// pollInterval bounds how stale an await's view of the object is; polling
// rather than watching keeps the stand-in simple and is cheap at this scale.
// The real provider watches, so an await ends as the rollout does: a short
// interval keeps the time of an update close to that.
const pollInterval = 200 * time.Millisecond

type cluster struct {
	dyn       dynamic.Interface
	namespace string // the namespace of objects that do not name one
}

// newCluster builds a client the way the real provider resolves its config:
// the `kubeconfig` value is a path when such a file exists and the file's
// contents otherwise; without it the usual KUBECONFIG/~/.kube/config rules
// apply. `context` and `cluster` override the kubeconfig's selection and
// `namespace` overrides the context's namespace.
func newCluster(kubeconfig, contextName, clusterName, namespace string) (*cluster, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: contextName}
	if clusterName != "" {
		overrides.Context.Cluster = clusterName
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	var cc clientcmd.ClientConfig
	if kubeconfig != "" {
		p := kubeconfig
		if strings.HasPrefix(p, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				p = filepath.Join(home, p[2:])
			}
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			rules.ExplicitPath = p
			cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
		} else {
			raw, err := clientcmd.Load([]byte(kubeconfig))
			if err != nil {
				return nil, fmt.Errorf("kubeconfig is neither an existing file nor a valid kubeconfig: %w", err)
			}
			cc = clientcmd.NewNonInteractiveClientConfig(*raw, contextName, overrides, nil)
		}
	} else {
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	}
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot load a kubeconfig (set KUBECONFIG or kubernetes:kubeconfig): %w", err)
	}
	rc.UserAgent = "pulumi-kubernetes-standin/" + version
	rc.QPS, rc.Burst = 50, 100
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	if namespace != "" {
		ns = namespace
	}
	return &cluster{dyn: dyn, namespace: ns}, nil
}

func (c *cluster) defaultNamespace() string { return c.namespace }

// kindInfo is everything the stand-in knows about one resource type.
type kindInfo struct {
	schema.GroupVersionKind
	resource  string
	replaceOn []string // input paths whose change replaces the object (immutable fields)
	await     func(ctx context.Context, c *cluster, ns, name string, timeout time.Duration, log func(string)) (map[string]any, error)
}

func (k kindInfo) apiVersion() string { return k.GroupVersion().String() }

func (k kindInfo) gvr() schema.GroupVersionResource {
	return k.GroupVersion().WithResource(k.resource)
}

var deploymentKind = kindInfo{
	GroupVersionKind: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
	resource:         "deployments",
	replaceOn:        []string{"spec.selector"},
}

func init() { deploymentKind.await = awaitDeployment }

var kinds = map[string]*kindInfo{
	"kubernetes:apps/v1:Deployment": &deploymentKind,
	"kubernetes:core/v1:Service": {
		GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "Service"},
		resource:         "services",
		// The API server refuses changes to an allocated cluster IP.
		replaceOn: []string{"spec.clusterIP", "spec.clusterIPs"},
	},
}

func kindOf(typ, urn string) (kindInfo, error) {
	if typ == "" && urn != "" {
		typ = string(resource.URN(urn).Type())
	}
	k, ok := kinds[typ]
	if !ok {
		return kindInfo{}, fmt.Errorf("resource type %q is not supported by the kubernetes stand-in provider "+
			"(only kubernetes:apps/v1:Deployment and kubernetes:core/v1:Service)", typ)
	}
	return *k, nil
}

func (c *cluster) get(ctx context.Context, k kindInfo, ns, name string) (map[string]any, error) {
	u, err := c.dyn.Resource(k.gvr()).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", k.Kind, ns, name, err)
	}
	return trimLive(u.Object), nil
}

func (c *cluster) apply(ctx context.Context, k kindInfo, ns, name string, obj map[string]any) (map[string]any, error) {
	u, err := c.dyn.Resource(k.gvr()).Namespace(ns).Apply(ctx, name, &unstructured.Unstructured{Object: obj},
		metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("applying %s %s/%s: %w", k.Kind, ns, name, err)
	}
	return trimLive(u.Object), nil
}

// trimLive drops managedFields: they are bookkeeping of the API server that
// would make every refresh look like a change and bloat the state.
func trimLive(obj map[string]any) map[string]any {
	unstructured.RemoveNestedField(obj, "metadata", "managedFields")
	return obj
}

func (c *cluster) deleteAndWait(ctx context.Context, k kindInfo, ns, name string, timeout time.Duration) error {
	// Foreground: the object disappears only after its dependants (a
	// Deployment's ReplicaSets and pods), so "deleted" means no pods remain.
	policy := metav1.DeletePropagationForeground
	err := c.dyn.Resource(k.gvr()).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s %s/%s: %w", k.Kind, ns, name, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		live, err := c.get(ctx, k, ns, name)
		if err != nil {
			return err
		}
		if live == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s/%s was not deleted within %ds", k.Kind, ns, name, int(timeout.Seconds()))
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// awaitError is a failed await. msg is the whole error, so it reads as one
// failure; detail (what was last seen) goes to the engine as a warning.
type awaitError struct {
	msg, detail string
}

func (e *awaitError) Error() string { return e.msg }

// awaitDeployment waits for the rollout to complete as the real provider
// defines it: the controller has seen the current generation, the Deployment
// is Available, Progressing says the new ReplicaSet is available, and every
// desired replica runs the current template.
func awaitDeployment(ctx context.Context, c *cluster, ns, name string, timeout time.Duration, log func(string)) (map[string]any, error) {
	k := deploymentKind
	deadline := time.Now().Add(timeout)
	var last map[string]any
	lastSummary := ""
	for {
		live, err := c.get(ctx, k, ns, name)
		if err != nil {
			return last, err
		}
		if live == nil {
			return last, fmt.Errorf("Deployment %s/%s was deleted while waiting for it to become ready", ns, name)
		}
		last = live
		ready, summary := deploymentReady(live)
		if ready {
			// The engine shows the last status next to the resource; without
			// this it would show a not-ready state from the middle of the rollout.
			log("Deployment rolled out: " + summary)
			return live, nil
		}
		if summary != lastSummary {
			log(summary)
			lastSummary = summary
		}
		if time.Now().After(deadline) {
			return last, &awaitError{
				msg:    fmt.Sprintf("Deployment %s/%s did not become ready within %ds", ns, name, int(timeout.Seconds())),
				detail: "last seen: " + summary,
			}
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return last, err
		}
	}
}

func deploymentReady(obj map[string]any) (bool, string) {
	generation, _, _ := unstructured.NestedInt64(obj, "metadata", "generation")
	observed, _, _ := unstructured.NestedInt64(obj, "status", "observedGeneration")
	replicas, found, _ := unstructured.NestedInt64(obj, "spec", "replicas")
	if !found {
		replicas = 1
	}
	updated, _, _ := unstructured.NestedInt64(obj, "status", "updatedReplicas")
	total, _, _ := unstructured.NestedInt64(obj, "status", "replicas")
	available, _, _ := unstructured.NestedInt64(obj, "status", "availableReplicas")

	var availableCond, progressingCond, progressingReason, conditionMsg string
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, raw := range conds {
		cond, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		st, _ := cond["status"].(string)
		switch cond["type"] {
		case "Available":
			availableCond = st
			if st != "True" {
				conditionMsg, _ = cond["message"].(string)
			}
		case "Progressing":
			progressingCond = st
			progressingReason, _ = cond["reason"].(string)
			if st != "True" && conditionMsg == "" {
				conditionMsg, _ = cond["message"].(string)
			}
		}
	}

	ready := observed >= generation &&
		availableCond == "True" &&
		progressingCond == "True" && progressingReason == "NewReplicaSetAvailable" &&
		updated == replicas && total == replicas
	summary := fmt.Sprintf("%d/%d replicas updated, %d available, %d total; Available=%s Progressing=%s (%s); generation %d observed %d",
		updated, replicas, available, total, orNone(availableCond), orNone(progressingCond), orNone(progressingReason), generation, observed)
	if conditionMsg != "" {
		summary += ": " + conditionMsg
	}
	return ready, summary
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}
