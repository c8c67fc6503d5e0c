// Plain Go values for Pulumi property maps: the resource code works on
// map[string]any / []any / string / float64 / bool, with unknowns as
// unknownValue and secretness kept per top-level key.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

// unknownValue stands for a value not known until the update runs.
type unknownValue struct{}

func isUnknown(v any) bool { _, ok := v.(unknownValue); return ok }

type props struct {
	values  map[string]any
	secrets map[string]bool
	unknown bool
}

var marshalOptions = plugin.MarshalOptions{
	Label: "docker-standin", KeepUnknowns: true, KeepSecrets: true, KeepOutputValues: true, SkipNulls: true,
}

func unmarshal(s *structpb.Struct) (props, error) {
	p := props{values: map[string]any{}, secrets: map[string]bool{}}
	if s == nil {
		return p, nil
	}
	m, err := plugin.UnmarshalProperties(s, marshalOptions)
	if err != nil {
		return p, err
	}
	for k, v := range m {
		if v.ContainsSecrets() {
			p.secrets[string(k)] = true
		}
		pv, unknown := plain(v)
		p.unknown = p.unknown || unknown
		if pv != nil {
			p.values[string(k)] = pv
		}
	}
	return p, nil
}

// plain turns a property value into plain Go values, reporting unknowns.
func plain(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsNull():
		return nil, false
	case v.IsComputed():
		return unknownValue{}, true
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return unknownValue{}, true
		}
		return plain(o.Element)
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsBool():
		return v.BoolValue(), false
	case v.IsNumber():
		return v.NumberValue(), false
	case v.IsString():
		return v.StringValue(), false
	case v.IsArray():
		out := []any{}
		unknown := false
		for _, e := range v.ArrayValue() {
			pe, u := plain(e)
			unknown = unknown || u
			out = append(out, pe)
		}
		return out, unknown
	case v.IsObject():
		out := map[string]any{}
		unknown := false
		for k, e := range v.ObjectValue() {
			pe, u := plain(e)
			unknown = unknown || u
			if pe != nil {
				out[string(k)] = pe
			}
		}
		return out, unknown
	}
	return nil, false
}

func propertyValue(v any) resource.PropertyValue {
	switch t := v.(type) {
	case nil:
		return resource.NewNullProperty()
	case unknownValue:
		return resource.MakeComputed(resource.NewStringProperty(""))
	case bool:
		return resource.NewBoolProperty(t)
	case float64:
		return resource.NewNumberProperty(t)
	case int:
		return resource.NewNumberProperty(float64(t))
	case int64:
		return resource.NewNumberProperty(float64(t))
	case uint64:
		return resource.NewNumberProperty(float64(t))
	case string:
		return resource.NewStringProperty(t)
	case []any:
		arr := make([]resource.PropertyValue, 0, len(t))
		for _, e := range t {
			arr = append(arr, propertyValue(e))
		}
		return resource.NewArrayProperty(arr)
	case []string:
		arr := make([]resource.PropertyValue, 0, len(t))
		for _, e := range t {
			arr = append(arr, resource.NewStringProperty(e))
		}
		return resource.NewArrayProperty(arr)
	case map[string]any:
		m := resource.PropertyMap{}
		for k, e := range t {
			if e != nil {
				m[resource.PropertyKey(k)] = propertyValue(e)
			}
		}
		return resource.NewObjectProperty(m)
	}
	panic(fmt.Sprintf("docker stand-in: cannot marshal %T", v))
}

// marshal turns plain values back into a property struct; keys in secrets are
// wrapped as secrets.
func marshal(values map[string]any, secrets map[string]bool) (*structpb.Struct, error) {
	m := resource.PropertyMap{}
	for k, v := range values {
		if v == nil {
			continue
		}
		pv := propertyValue(v)
		if secrets[k] {
			pv = resource.MakeSecret(pv)
		}
		m[resource.PropertyKey(k)] = pv
	}
	return plugin.MarshalProperties(m, marshalOptions)
}

// changedKeys lists the top-level keys whose values differ; an unknown new
// value counts as a change.
func changedKeys(olds, news map[string]any) []string {
	keys := map[string]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		o, n := olds[k], news[k]
		if isUnknown(n) || containsUnknown(n) || !reflect.DeepEqual(o, n) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func containsUnknown(v any) bool {
	switch t := v.(type) {
	case unknownValue:
		return true
	case []any:
		for _, e := range t {
			if containsUnknown(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if containsUnknown(e) {
				return true
			}
		}
	}
	return false
}

// Accessors that follow the shapes the SDK sends: nested objects, and lists of
// objects for the Terraform blocks that the real provider flattens into
// objects (taskSpec, mode, ...). A missing or wrongly typed value is the zero value.

func obj(m map[string]any, key string) map[string]any {
	switch t := m[key].(type) {
	case map[string]any:
		return t
	case []any:
		if len(t) > 0 {
			if o, ok := t[0].(map[string]any); ok {
				return o
			}
		}
	}
	return nil
}

func str(m map[string]any, key string) string { s, _ := m[key].(string); return s }

func num(m map[string]any, key string) (float64, bool) { f, ok := m[key].(float64); return f, ok }

func boolean(m map[string]any, key string, def bool) bool {
	if b, ok := m[key].(bool); ok {
		return b
	}
	return def
}

func list(m map[string]any, key string) []any { l, _ := m[key].([]any); return l }

func stringList(m map[string]any, key string) []string {
	var out []string
	for _, e := range list(m, key) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func setDefault(m map[string]any, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

// duration parses a Terraform-style duration ("5s", "1m30s"); "" is zero.
func duration(m map[string]any, key, field string) (time.Duration, error) {
	s := str(m, key)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (ms|s|m|h)", field, s)
	}
	return d, nil
}

// autoName is the real provider's auto-name: the resource's name, a dash, and
// seven hex characters derived from the engine's random seed.
func autoName(urnName string, seed []byte) string {
	sum := sha256.Sum256(append([]byte(urnName), seed...))
	return urnName + "-" + hex.EncodeToString(sum[:])[:7]
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// unexpected lists the keys of m that this stand-in does not implement.
func unexpected(m map[string]any, allowed ...string) []string {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var bad []string
	for k := range m {
		if !ok[k] && k != "__defaults" {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}
