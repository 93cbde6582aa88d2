package tasks

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzMergeDaemonConfig merges one setting into arbitrary files. Whenever the merge
// succeeds, the result must be a valid file, keep every other key's value, hold the
// setting, and be a fixed point: merging the same setting again changes nothing.
func FuzzMergeDaemonConfig(f *testing.F) {
	keys := sortedKeys(daemonKeys)
	index := func(key string) uint8 {
		for i, k := range keys {
			if k == key {
				return uint8(i)
			}
		}
		panic("no key " + key)
	}
	seeds := []struct {
		existing, key, value string
	}{
		{``, "debug", `true`},
		{`{}`, "log-opts", `{"max-file": 3, "max-size": "10m"}`},
		{`{"log-opts": {"max-size": "1m", "tag": "x"}, "debug": false}`, "log-opts", `{"max-size": "2m"}`},
		{"\xef\xbb\xbf{\"icc\": true}", "icc", `"false"`},
		{`{"runtimes": {"crun": {"path": "/usr/bin/crun"}}}`, "runtimes", `{"crun": {"runtimeArgs": ["--debug"]}}`},
		{`{"debug": true, "debug": false}`, "mtu", `1400`},
		{`{"data-root": "/srv/\u0064ocker", "dns": []}`, "dns", `["192.0.2.1", 53]`},
		{`{"proxies": {"no-proxy": "localhost"}}`, "proxies", `{"http-proxy": "http://p:3128"}`},
		{`{"default-network-opts": {"bridge": {"a": "1"}}}`, "default-network-opts", `{"bridge": {"b": 2}}`},
		{`{"features": {"buildkit": true}}`, "default-shm-size", `"64M"`},
	}
	for _, s := range seeds {
		f.Add([]byte(s.existing), index(s.key), []byte(s.value))
	}

	f.Fuzz(func(t *testing.T, existing []byte, keyIndex uint8, valueJSON []byte) {
		var value any
		if json.Unmarshal(valueJSON, &value) != nil {
			return
		}
		key := keys[int(keyIndex)%len(keys)]
		coerced, err := coerceDaemonValue(key, value)
		if err != nil {
			return
		}
		task := &daemonConfigTask{path: "/etc/docker/daemon.json",
			settings: map[string]any{key: coerced}, service: "docker"}
		plan, err := task.plan(existing, &daemonCommandLine{})
		if err != nil {
			return
		}

		checkMergedFile(t, plan.data)
		checkOtherKeysKept(t, existing, plan.data, key)
		checkSettingHeld(t, plan.data, key, coerced)

		again, err := task.plan(plan.data, &daemonCommandLine{})
		if err != nil {
			t.Fatalf("second merge failed: %v\nfile:\n%s", err, plan.data)
		}
		if !bytes.Equal(again.data, plan.data) {
			t.Fatalf("second merge changed the file:\n%s\nto\n%s", plan.data, again.data)
		}
		if len(again.set) != 0 {
			t.Fatalf("second merge reports %v set", again.set)
		}
	})
}

func checkMergedFile(t *testing.T, data []byte) {
	t.Helper()
	obj, err := parseJSONObject(data)
	if err != nil {
		t.Fatalf("merged file does not parse: %v\n%s", err, data)
	}
	if err := checkDaemonDocument(obj); err != nil {
		t.Fatalf("merged file fails the check: %v\n%s", err, data)
	}
	if err := checkMergedValues(obj, &daemonCommandLine{}); err != nil {
		t.Fatalf("merged file fails the value check: %v\n%s", err, data)
	}
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Fatalf("merged file does not end with a newline:\n%q", data)
	}
}

func checkOtherKeysKept(t *testing.T, existing, merged []byte, key string) {
	t.Helper()
	before, errBefore := decodeJSON(existing)
	after, errAfter := decodeJSON(merged)
	if errBefore != nil || errAfter != nil {
		t.Fatalf("decode: %v, %v", errBefore, errAfter)
	}
	beforeMap, afterMap := before.(map[string]any), after.(map[string]any)
	for k, v := range beforeMap {
		if k != key && !reflect.DeepEqual(afterMap[k], v) {
			t.Fatalf("key %q changed from %v to %v", k, v, afterMap[k])
		}
	}
}

// checkSettingHeld checks the merged value of key against the setting: equal, or, for
// mappings merged key by key, holding every key of the setting.
func checkSettingHeld(t *testing.T, merged []byte, key string, setting any) {
	t.Helper()
	doc, _ := decodeJSON(merged)
	got := doc.(map[string]any)[key]
	want, err := marshalJSON(setting)
	if err != nil {
		t.Fatal(err)
	}
	wantValue, _ := decodeJSON(want)
	if !containsJSON(got, wantValue) {
		t.Fatalf("key %q = %v, want it to hold %v", key, got, wantValue)
	}
}

func containsJSON(got, want any) bool {
	wantMap, isMap := want.(map[string]any)
	gotMap, gotIsMap := got.(map[string]any)
	if !isMap || !gotIsMap {
		return reflect.DeepEqual(got, want)
	}
	for k, v := range wantMap {
		if !containsJSON(gotMap[k], v) {
			return false
		}
	}
	return true
}
