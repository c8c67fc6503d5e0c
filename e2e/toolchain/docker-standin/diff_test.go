package main

import (
	"context"
	"reflect"
	"sort"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The replace and delete-before-replace decisions the engine gets, per changed input.
func TestDiff(t *testing.T) {
	container := map[string]any{"name": "web", "image": "r/web@sha256:aaa", "restart": "no", "envs": []any{"A=1"}}
	service := map[string]any{
		"name":     "api",
		"taskSpec": map[string]any{"containerSpec": map[string]any{"image": "r/web@sha256:aaa"}},
		"mode":     map[string]any{"replicated": map[string]any{"replicas": float64(2)}},
	}
	with := func(m map[string]any, key string, v any) map[string]any {
		out := copyMap(m)
		out[key] = v
		return out
	}
	cases := []struct {
		name                string
		typ                 string
		olds, news          map[string]any
		changes             pulumirpc.DiffResponse_DiffChanges
		replaces            []string
		deleteBeforeReplace bool
	}{
		{"container unchanged", containerType, container, container, pulumirpc.DiffResponse_DIFF_NONE, nil, false},
		{"container image", containerType, container, with(container, "image", "r/web@sha256:bbb"), pulumirpc.DiffResponse_DIFF_SOME, []string{"image"}, true},
		{"container envs", containerType, container, with(container, "envs", []any{"A=2"}), pulumirpc.DiffResponse_DIFF_SOME, []string{"envs"}, true},
		{"container restart", containerType, container, with(container, "restart", "always"), pulumirpc.DiffResponse_DIFF_SOME, nil, false},
		{"service image", serviceType, service, with(service, "taskSpec", map[string]any{"containerSpec": map[string]any{"image": "r/web@sha256:bbb"}}), pulumirpc.DiffResponse_DIFF_SOME, nil, false},
		{"service replicas", serviceType, service, with(service, "mode", map[string]any{"replicated": map[string]any{"replicas": float64(3)}}), pulumirpc.DiffResponse_DIFF_SOME, []string{"mode"}, true},
		{"service name", serviceType, service, with(service, "name", "api2"), pulumirpc.DiffResponse_DIFF_SOME, []string{"name"}, false},
	}
	s := newServer(nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			olds, err := marshal(c.olds, nil)
			if err != nil {
				t.Fatal(err)
			}
			news, err := marshal(c.news, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.Diff(context.Background(), &pulumirpc.DiffRequest{Type: c.typ, OldInputs: olds, Olds: olds, News: news})
			if err != nil {
				t.Fatal(err)
			}
			replaces := resp.GetReplaces()
			sort.Strings(replaces)
			if resp.GetChanges() != c.changes || !reflect.DeepEqual(replaces, c.replaces) || resp.GetDeleteBeforeReplace() != c.deleteBeforeReplace {
				t.Errorf("got changes %v replaces %v deleteBeforeReplace %v, want %v %v %v",
					resp.GetChanges(), replaces, resp.GetDeleteBeforeReplace(), c.changes, c.replaces, c.deleteBeforeReplace)
			}
		})
	}
}

// Check names what it does not implement, and auto-names like the real provider.
func TestCheck(t *testing.T) {
	out, failures := containerKind{}.check(map[string]any{"image": "r/web@sha256:aaa", "volumes": []any{}}, nil, "web", []byte("seed"))
	if len(failures) != 1 || failures[0].GetProperty() != "volumes" {
		t.Errorf("failures %v, want one for volumes", failures)
	}
	if name, _ := out["name"].(string); len(name) != len("web-")+7 || name[:4] != "web-" {
		t.Errorf("auto-name %q, want web-<7 hex>", name)
	}
	again, _ := containerKind{}.check(map[string]any{"image": "r/web@sha256:bbb"}, out, "web", []byte("other"))
	if again["name"] != out["name"] {
		t.Errorf("an update keeps the name: %v then %v", out["name"], again["name"])
	}
	_, failures = serviceKind{}.check(map[string]any{
		"taskSpec":       map[string]any{"containerSpec": map[string]any{"image": "r/web@sha256:aaa"}},
		"mode":           map[string]any{"global": true},
		"convergeConfig": map[string]any{"delay": "1s"},
	}, nil, "api", nil)
	if len(failures) != 1 || failures[0].GetProperty() != "convergeConfig" {
		t.Errorf("failures %v, want one for convergeConfig in global mode", failures)
	}
}
