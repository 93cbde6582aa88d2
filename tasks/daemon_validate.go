package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// flatDaemonKeys are the object-valued keys that dockerd reads as a whole. It flattens
// the value of any other object-valued key, such as proxies, into top-level keys before
// it looks for unknown keys and for keys also given as flags.
var flatDaemonKeys = map[string]bool{
	"cluster-store-opts": true, "default-network-opts": true, "log-opts": true,
	"runtimes": true, "default-ulimits": true, "features": true, "builder": true,
}

// flattenedName is a key as dockerd checks it after flattening: Name is the key itself
// or a member of a flattened object, and Parent is that object's key or "".
type flattenedName struct {
	Name, Parent string
}

// flattenDaemonKeys returns the names dockerd checks for doc.
func flattenDaemonKeys(doc jsonObject) []flattenedName {
	var names []flattenedName
	for _, m := range doc {
		sub, err := parseJSONObject(m.Value)
		if flatDaemonKeys[m.Key] || !isJSONObject(m.Value) || err != nil {
			names = append(names, flattenedName{Name: m.Key})
			continue
		}
		for _, k := range sub.keys() {
			names = append(names, flattenedName{Name: k, Parent: m.Key})
		}
	}
	return names
}

// checkDaemonDocument returns an error when dockerd would reject doc: a key it does not
// know, or a value of the wrong type for a known key.
func checkDaemonDocument(doc jsonObject) error {
	var unknown []string
	for _, n := range flattenDaemonKeys(doc) {
		_, known := daemonKeys[n.Name]
		if !known && !proxyKeys[n.Name] {
			unknown = append(unknown, n.Name)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w; list such keys in remove to delete them", unknownKeyError(unknown))
	}

	for _, m := range doc {
		spec, ok := daemonKeys[m.Key]
		if !ok {
			continue
		}
		v, err := decodeJSON(m.Value)
		if err == nil {
			err = checkDaemonType(spec.Type, v)
		}
		if err != nil {
			return fmt.Errorf("key %q: %w; set it in settings to replace the value", m.Key, err)
		}
	}
	return nil
}

// checkMergedValues checks the values of a document that checkDaemonDocument accepted,
// with log-opts checked against the log driver that dockerd would use.
func checkMergedValues(doc jsonObject, cl *daemonCommandLine) error {
	decoded, err := decodeJSON(doc.marshal())
	if err != nil {
		return err
	}
	values, _ := decoded.(map[string]any)
	return checkDaemonValues(values, "key", effectiveLogDriver(values, cl), true)
}

// checkDaemonType checks a value decoded by decodeJSON as strictly as dockerd's JSON
// decoding does.
func checkDaemonType(t daemonType, v any) error {
	switch t {
	case daemonString:
		return expectJSON[string](v, "a string")
	case daemonBool:
		return expectJSON[bool](v, "true or false")
	case daemonInt:
		return expectJSONInt(v)
	case daemonSize:
		s, ok := v.(string)
		if !ok || !sizeRE.MatchString(s) {
			return fmt.Errorf("must be a size string such as \"64M\", not %s", describeJSON(v))
		}
		return nil
	case daemonStrings:
		return expectJSONList(v, func(item any) error { return expectJSON[string](item, "a string") })
	case daemonStringMap:
		return expectJSONMap(v, func(item any) error { return expectJSON[string](item, "a string") })
	case daemonBoolMap:
		return expectJSONMap(v, func(item any) error { return expectJSON[bool](item, "true or false") })
	case daemonStringMapMap:
		return expectJSONMap(v, func(inner any) error {
			return expectJSONMap(inner, func(item any) error { return expectJSON[string](item, "a string") })
		})
	case daemonAddressPools:
		return expectJSONList(v, func(item any) error {
			return expectJSON[map[string]any](item, "an object")
		})
	case daemonProxies:
		return expectJSONMap(v, func(item any) error { return expectJSON[string](item, "a string") })
	default:
		return expectJSON[map[string]any](v, "an object")
	}
}

func expectJSON[T any](v any, want string) error {
	if _, ok := v.(T); !ok {
		return fmt.Errorf("must be %s, not %s", want, describeJSON(v))
	}
	return nil
}

func expectJSONInt(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("must be an integer, not %s", describeJSON(v))
	}
	if _, err := n.Int64(); err != nil {
		return fmt.Errorf("must be an integer, not %s", n)
	}
	return nil
}

func expectJSONList(v any, check func(any) error) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("must be an array, not %s", describeJSON(v))
	}
	for i, item := range list {
		if err := check(item); err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	return nil
}

func expectJSONMap(v any, check func(any) error) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object, not %s", describeJSON(v))
	}
	for _, k := range sortedKeys(m) {
		if err := check(m[k]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

// describeJSON shows a decoded JSON value in a message, shortened to one line.
func describeJSON(v any) string {
	if v == nil {
		return "null"
	}
	raw, err := marshalJSON(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return shorten(string(bytes.TrimSpace(raw)), 60)
}

// shorten cuts s to at most n bytes, marking the cut with "...".
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
