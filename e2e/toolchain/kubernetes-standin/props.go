package main

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	annotationAutonamed = "pulumi.com/autonamed"
	annotationTimeout   = "pulumi.com/timeoutSeconds"
	annotationSkipAwait = "pulumi.com/skipAwait"
	defaultTimeout      = 600 * time.Second
)

// unknownValue stands for an input the engine does not know yet (preview only).
type unknownValue struct{}

// toPlain turns engine property values into the JSON-shaped values the
// Kubernetes API takes: secrets are unwrapped (secretness is tracked
// separately, per top-level key), resource references become their ID (or
// URN), and unknowns become unknownValue.
func toPlain(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		// The API server types integers strictly (replicas: 2, not 2.0).
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = toPlain(e)
		}
		return out
	case v.IsObject():
		obj := v.ObjectValue()
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			out[string(k)] = toPlain(e)
		}
		return out
	case v.IsSecret():
		return toPlain(v.SecretValue().Element)
	case v.IsComputed():
		return unknownValue{}
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return unknownValue{}
		}
		return toPlain(o.Element)
	case v.IsResourceReference():
		ref := v.ResourceReferenceValue()
		if id, ok := ref.IDString(); ok {
			return id
		}
		return string(ref.URN)
	default:
		// Assets and archives have no meaning in a Kubernetes object.
		return nil
	}
}

func containsUnknown(v any) bool {
	switch t := v.(type) {
	case unknownValue:
		return true
	case map[string]any:
		for _, e := range t {
			if containsUnknown(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if containsUnknown(e) {
				return true
			}
		}
	}
	return false
}

// plainMap unmarshals primary, or fallback when primary is absent, to plain values.
func plainMap(primary, fallback *structpb.Struct) (map[string]any, error) {
	s := primary
	if s == nil {
		s = fallback
	}
	pm, err := plugin.UnmarshalProperties(s, plainIn)
	if err != nil {
		return nil, err
	}
	return toPlain(resource.NewObjectProperty(pm)).(map[string]any), nil
}

func secretTopLevelKeys(pm resource.PropertyMap) map[string]bool {
	keys := map[string]bool{}
	for k, v := range pm {
		if v.ContainsSecrets() {
			keys[string(k)] = true
		}
	}
	return keys
}

// marshalPlain returns a live object to the engine. A top-level field whose
// inputs held a secret is marked secret as a whole: coarser than the real
// provider, but it never leaks a secret into plain state.
func marshalPlain(obj map[string]any, secretKeys map[string]bool) (*structpb.Struct, error) {
	pm := resource.NewPropertyMapFromMap(obj)
	for k := range secretKeys {
		if v, ok := pm[resource.PropertyKey(k)]; ok {
			pm[resource.PropertyKey(k)] = resource.MakeSecret(v)
		}
	}
	return plugin.MarshalProperties(pm, keepAll)
}

// change is one leaf difference between old and new inputs.
type change struct {
	path string
	root string
	op   pulumirpc.PropertyDiff_Kind // ADD, DELETE or UPDATE
}

func (c change) kind(replace bool) pulumirpc.PropertyDiff_Kind {
	if !replace {
		return c.op
	}
	switch c.op {
	case pulumirpc.PropertyDiff_ADD:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case pulumirpc.PropertyDiff_DELETE:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	default:
		return pulumirpc.PropertyDiff_UPDATE_REPLACE
	}
}

func diffObjects(olds, news map[string]any) []change {
	var out []change
	diffValue("", "", olds, news, true, true, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

var simpleKey = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

func joinKey(path, key string) string {
	if !simpleKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func diffValue(path, root string, old, new any, hasOld, hasNew bool, out *[]change) {
	add := func(op pulumirpc.PropertyDiff_Kind) { *out = append(*out, change{path: path, root: root, op: op}) }
	switch {
	case !hasOld && !hasNew:
		return
	case !hasOld:
		add(pulumirpc.PropertyDiff_ADD)
		return
	case !hasNew:
		add(pulumirpc.PropertyDiff_DELETE)
		return
	}
	if _, ok := new.(unknownValue); ok {
		// Not known yet: assume it changes, as the engine does.
		add(pulumirpc.PropertyDiff_UPDATE)
		return
	}
	om, oIsMap := old.(map[string]any)
	nm, nIsMap := new.(map[string]any)
	if oIsMap && nIsMap {
		keys := map[string]bool{}
		for k := range om {
			keys[k] = true
		}
		for k := range nm {
			keys[k] = true
		}
		for k := range keys {
			ov, okO := om[k]
			nv, okN := nm[k]
			r := root
			if r == "" {
				r = k
			}
			diffValue(joinKey(path, k), r, ov, nv, okO, okN, out)
		}
		return
	}
	oa, oIsArr := old.([]any)
	na, nIsArr := new.([]any)
	if oIsArr && nIsArr {
		for i := 0; i < len(oa) || i < len(na); i++ {
			var ov, nv any
			if i < len(oa) {
				ov = oa[i]
			}
			if i < len(na) {
				nv = na[i]
			}
			diffValue(fmt.Sprintf("%s[%d]", path, i), root, ov, nv, i < len(oa), i < len(na), out)
		}
		return
	}
	if !reflect.DeepEqual(old, new) {
		add(pulumirpc.PropertyDiff_UPDATE)
	}
}

func topLevel(changes []change) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range changes {
		if !seen[c.root] {
			seen[c.root] = true
			out = append(out, c.root)
		}
	}
	sort.Strings(out)
	return out
}

func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func setPath(obj map[string]any, value any, path ...string) {
	cur := obj
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = value
}

func nameOf(obj map[string]any) string {
	s, _ := nested(obj, "metadata", "name").(string)
	return s
}

func namespaceOf(obj map[string]any, def string) string {
	if s, _ := nested(obj, "metadata", "namespace").(string); s != "" {
		return s
	}
	return def
}

func annotation(obj map[string]any, key string) string {
	s, _ := nested(obj, "metadata", "annotations", key).(string)
	return s
}

func isAutonamed(obj map[string]any) bool { return annotation(obj, annotationAutonamed) == "true" }

func skipAwait(obj map[string]any) bool { return annotation(obj, annotationSkipAwait) == "true" }

// timeoutFor prefers the object's pulumi.com/timeoutSeconds annotation, then
// the resource's customTimeouts, then the real provider's ten minutes.
func timeoutFor(obj map[string]any, requested float64) time.Duration {
	if s := annotation(obj, annotationTimeout); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	if requested > 0 {
		return time.Duration(requested * float64(time.Second))
	}
	return defaultTimeout
}

// assignName gives an unnamed object "<urn name>-<8 lowercase alphanumerics>",
// reusing the old generated name on updates so that an update is not a
// replacement. The engine re-runs Check without olds when it does replace, and
// the object then gets a new name.
func assignName(news, olds resource.PropertyMap, urnName string, seed []byte) error {
	meta, ok := news["metadata"]
	switch {
	case !ok || meta.IsNull():
		meta = resource.NewObjectProperty(resource.PropertyMap{})
	case meta.IsComputed() || (meta.IsOutput() && !meta.OutputValue().Known):
		return nil // decided once it is known
	case !meta.IsObject():
		return fmt.Errorf("metadata must be an object")
	}
	m := meta.ObjectValue()
	if n, ok := m["name"]; ok && !n.IsNull() {
		return nil
	}

	name := ""
	if old, ok := olds["metadata"]; ok && old.IsObject() {
		om := old.ObjectValue()
		if on, ok := om["name"]; ok && on.IsString() {
			if a, ok := om["annotations"]; ok && a.IsObject() {
				if v, ok := a.ObjectValue()[annotationAutonamed]; ok && v.IsString() && v.StringValue() == "true" {
					name = on.StringValue()
				}
			}
		}
	}
	if name == "" {
		name = strings.ToLower(urnName) + "-" + randomSuffix(seed)
	}
	m["name"] = resource.NewProperty(name)

	ann, ok := m["annotations"]
	switch {
	case !ok || ann.IsNull():
		m["annotations"] = resource.NewObjectProperty(resource.PropertyMap{
			annotationAutonamed: resource.NewProperty("true"),
		})
	case ann.IsObject():
		ann.ObjectValue()[annotationAutonamed] = resource.NewProperty("true")
	}
	news["metadata"] = resource.NewObjectProperty(m)
	return nil
}

// randomSuffix is deterministic for a given engine seed, so a preview and the
// update that follows it agree on the name.
func randomSuffix(seed []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var key [32]byte
	if len(seed) > 0 {
		key = sha256.Sum256(seed)
	} else {
		_, _ = rand.Read(key[:])
	}
	r := mrand.New(mrand.NewChaCha8(key))
	b := make([]byte, 8)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// declaredPart keeps what a user would have written for an object, for imports.
func declaredPart(live map[string]any) map[string]any {
	out := map[string]any{"apiVersion": live["apiVersion"], "kind": live["kind"]}
	meta := map[string]any{}
	for _, k := range []string{"name", "namespace", "labels", "annotations"} {
		if v := nested(live, "metadata", k); v != nil {
			meta[k] = v
		}
	}
	out["metadata"] = meta
	if spec, ok := live["spec"]; ok {
		out["spec"] = spec
	}
	return out
}

func splitID(id, defaultNS string) (string, string, error) {
	parts := strings.Split(id, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return defaultNS, parts[0], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("malformed id %q: want <namespace>/<name>", id)
}

// overlay returns declared with every value it sets replaced by live's value at
// the same place; fields live lacks keep their declared value.
func overlay(declared, live any) any {
	switch d := declared.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live
		}
		out := make(map[string]any, len(d))
		for k, v := range d {
			if lv, found := l[k]; found {
				out[k] = overlay(v, lv)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return live
		}
		out := make([]any, len(d))
		for i := range d {
			out[i] = overlay(d[i], l[i])
		}
		return out
	default:
		if live == nil {
			return declared
		}
		return live
	}
}
