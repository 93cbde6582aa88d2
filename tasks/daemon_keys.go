package tasks

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// daemonType is the JSON type dockerd expects for the value of a daemon.json key.
type daemonType int

const (
	daemonString       daemonType = iota
	daemonBool                    // JSON true or false
	daemonInt                     // JSON integer
	daemonSize                    // string such as "64M" (go-units RAMInBytes syntax)
	daemonStrings                 // array of strings
	daemonStringMap               // object of string values, such as log-opts
	daemonBoolMap                 // object of booleans, such as features
	daemonStringMapMap            // object of objects of strings: default-network-opts
	daemonObject                  // object checked by dockerd only: runtimes, builder
	daemonAddressPools            // array of {"base": CIDR, "size": int}
	daemonProxies                 // object with http-proxy, https-proxy and no-proxy
	daemonUlimits                 // object of {"Name", "Hard", "Soft"} per ulimit name
)

// daemonKey describes one key of daemon.json: its type and the dockerd flags that set
// the same option, long names first. A key set both in the file and by one of its flags
// makes dockerd fail to start.
type daemonKey struct {
	Type  daemonType
	Flags []string
}

// daemonKeys lists the keys dockerd accepts in daemon.json on Linux, from Docker 20.10 to
// 28, with their types. Sources: the "Daemon configuration file" section of the dockerd
// reference and the JSON tags and flag definitions in moby's daemon/config and
// cmd/dockerd packages.
//
// NOTE: the table is the union over those releases. cluster-store, cluster-advertise and
// cluster-store-opts were removed in 23.0, oom-score-adjust in 25.0, and keys such as
// bip6, firewall-backend or host-gateway-ips only exist from 28.0, so a key accepted
// here can still be unknown to the daemon of one particular host.
var daemonKeys = map[string]daemonKey{
	"allow-direct-routing":             {daemonBool, []string{"allow-direct-routing"}},
	"allow-nondistributable-artifacts": {daemonStrings, []string{"allow-nondistributable-artifacts"}},
	"api-cors-header":                  {daemonString, []string{"api-cors-header"}},
	"authorization-plugins":            {daemonStrings, []string{"authorization-plugin"}},
	"bip":                              {daemonString, []string{"bip"}},
	"bip6":                             {daemonString, []string{"bip6"}},
	"bridge":                           {daemonString, []string{"bridge", "b"}},
	"bridge-accept-fwmark":             {daemonString, []string{"bridge-accept-fwmark"}},
	"builder":                          {daemonObject, nil},
	"cdi-spec-dirs":                    {daemonStrings, []string{"cdi-spec-dir"}},
	"cgroup-parent":                    {daemonString, []string{"cgroup-parent"}},
	"cluster-advertise":                {daemonString, []string{"cluster-advertise"}},
	"cluster-store":                    {daemonString, []string{"cluster-store"}},
	"cluster-store-opts":               {daemonStringMap, []string{"cluster-store-opt"}},
	"containerd":                       {daemonString, []string{"containerd"}},
	"containerd-namespace":             {daemonString, []string{"containerd-namespace"}},
	"containerd-plugins-namespace":     {daemonString, []string{"containerd-plugins-namespace"}},
	"cpu-rt-period":                    {daemonInt, []string{"cpu-rt-period"}},
	"cpu-rt-runtime":                   {daemonInt, []string{"cpu-rt-runtime"}},
	"cri-containerd":                   {daemonBool, []string{"cri-containerd"}},
	"data-root":                        {daemonString, []string{"data-root"}},
	"debug":                            {daemonBool, []string{"debug", "D"}},
	"default-address-pools":            {daemonAddressPools, []string{"default-address-pool"}},
	"default-cgroupns-mode":            {daemonString, []string{"default-cgroupns-mode"}},
	"default-gateway":                  {daemonString, []string{"default-gateway"}},
	"default-gateway-v6":               {daemonString, []string{"default-gateway-v6"}},
	"default-ipc-mode":                 {daemonString, []string{"default-ipc-mode"}},
	"default-network-opts":             {daemonStringMapMap, []string{"default-network-opt"}},
	"default-runtime":                  {daemonString, []string{"default-runtime"}},
	"default-shm-size":                 {daemonSize, []string{"default-shm-size"}},
	"default-ulimits":                  {daemonUlimits, []string{"default-ulimit"}},
	"dns":                              {daemonStrings, []string{"dns"}},
	"dns-opts":                         {daemonStrings, []string{"dns-opt"}},
	"dns-search":                       {daemonStrings, []string{"dns-search"}},
	"exec-opts":                        {daemonStrings, []string{"exec-opt"}},
	"exec-root":                        {daemonString, []string{"exec-root"}},
	"experimental":                     {daemonBool, []string{"experimental"}},
	"features":                         {daemonBoolMap, nil},
	"firewall-backend":                 {daemonString, []string{"firewall-backend"}},
	"fixed-cidr":                       {daemonString, []string{"fixed-cidr"}},
	"fixed-cidr-v6":                    {daemonString, []string{"fixed-cidr-v6"}},
	"group":                            {daemonString, []string{"group", "G"}},
	"host-gateway-ip":                  {daemonString, []string{"host-gateway-ip"}},
	"host-gateway-ips":                 {daemonStrings, []string{"host-gateway-ip"}},
	"hosts":                            {daemonStrings, []string{"host", "H"}},
	"icc":                              {daemonBool, []string{"icc"}},
	"init":                             {daemonBool, []string{"init"}},
	"init-path":                        {daemonString, []string{"init-path"}},
	"insecure-registries":              {daemonStrings, []string{"insecure-registry"}},
	"ip":                               {daemonString, []string{"ip"}},
	"ip-forward":                       {daemonBool, []string{"ip-forward"}},
	"ip-forward-no-drop":               {daemonBool, []string{"ip-forward-no-drop"}},
	"ip-masq":                          {daemonBool, []string{"ip-masq"}},
	"ip6tables":                        {daemonBool, []string{"ip6tables"}},
	"iptables":                         {daemonBool, []string{"iptables"}},
	"ipv6":                             {daemonBool, []string{"ipv6"}},
	"labels":                           {daemonStrings, []string{"label"}},
	"live-restore":                     {daemonBool, []string{"live-restore"}},
	"log-driver":                       {daemonString, []string{"log-driver"}},
	"log-format":                       {daemonString, []string{"log-format"}},
	"log-level":                        {daemonString, []string{"log-level", "l"}},
	"log-opts":                         {daemonStringMap, []string{"log-opt"}},
	"max-concurrent-downloads":         {daemonInt, []string{"max-concurrent-downloads"}},
	"max-concurrent-uploads":           {daemonInt, []string{"max-concurrent-uploads"}},
	"max-download-attempts":            {daemonInt, []string{"max-download-attempts"}},
	"metrics-addr":                     {daemonString, []string{"metrics-addr"}},
	"mtu":                              {daemonInt, []string{"mtu"}},
	"network-control-plane-mtu":        {daemonInt, []string{"network-control-plane-mtu"}},
	"network-diagnostic-port":          {daemonInt, []string{"network-diagnostic-port"}},
	"no-new-privileges":                {daemonBool, []string{"no-new-privileges"}},
	"node-generic-resources":           {daemonStrings, []string{"node-generic-resource"}},
	"oom-score-adjust":                 {daemonInt, []string{"oom-score-adjust"}},
	"pidfile":                          {daemonString, []string{"pidfile", "p"}},
	"proxies":                          {daemonProxies, nil},
	"raw-logs":                         {daemonBool, []string{"raw-logs"}},
	"registry-mirrors":                 {daemonStrings, []string{"registry-mirror"}},
	"rootless":                         {daemonBool, []string{"rootless"}},
	"runtimes":                         {daemonObject, nil}, // --add-runtime merges with the file
	"seccomp-profile":                  {daemonString, []string{"seccomp-profile"}},
	"selinux-enabled":                  {daemonBool, []string{"selinux-enabled"}},
	"shutdown-timeout":                 {daemonInt, []string{"shutdown-timeout"}},
	"storage-driver":                   {daemonString, []string{"storage-driver", "s"}},
	"storage-opts":                     {daemonStrings, []string{"storage-opt"}},
	"swarm-default-advertise-addr":     {daemonString, []string{"swarm-default-advertise-addr"}},
	"tls":                              {daemonBool, []string{"tls"}},
	"tlscacert":                        {daemonString, []string{"tlscacert"}},
	"tlscert":                          {daemonString, []string{"tlscert"}},
	"tlskey":                           {daemonString, []string{"tlskey"}},
	"tlsverify":                        {daemonBool, []string{"tlsverify"}},
	"userland-proxy":                   {daemonBool, []string{"userland-proxy"}},
	"userland-proxy-path":              {daemonString, []string{"userland-proxy-path"}},
	"userns-remap":                     {daemonString, []string{"userns-remap"}},
}

// proxyKeys are the keys of the "proxies" object. dockerd flattens that object before it
// checks keys against its flags, so each of them conflicts with the flag of the same name.
var proxyKeys = map[string]bool{"http-proxy": true, "https-proxy": true, "no-proxy": true}

// sizeRE matches the sizes that go-units RAMInBytes accepts, such as "64M" or "1.5GiB".
var sizeRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?([kKmMgGtTpP][iI]?)?[bB]?$`)

// coerceDaemonValue converts a value decoded from a playbook to the JSON type dockerd
// expects for key, or returns an error that names the key and the expected type.
func coerceDaemonValue(key string, v any) (any, error) {
	spec, ok := daemonKeys[key]
	if !ok {
		return nil, unknownKeyError([]string{key})
	}
	if v == nil {
		return nil, fmt.Errorf("setting %q: null value: list the key in remove to delete it", key)
	}

	out, err := coerceTyped(spec.Type, v)
	if err != nil {
		return nil, fmt.Errorf("setting %q: %w", key, err)
	}
	return out, nil
}

func coerceTyped(t daemonType, v any) (any, error) {
	switch t {
	case daemonString:
		return coerceString(v)
	case daemonBool:
		return coerceBool(v)
	case daemonInt:
		return coerceInt(v)
	case daemonSize:
		return coerceSize(v)
	case daemonStrings:
		return coerceStrings(v)
	case daemonStringMap:
		return coerceMap(v, coerceScalarString)
	case daemonBoolMap:
		return coerceMap(v, coerceBool)
	case daemonStringMapMap:
		return coerceMap(v, func(inner any) (any, error) {
			return coerceMap(inner, coerceScalarString)
		})
	case daemonAddressPools:
		return coerceAddressPools(v)
	case daemonProxies:
		return coerceProxies(v)
	case daemonUlimits:
		return coerceMap(v, coerceUlimit)
	default:
		return coerceObject(v)
	}
}

// coerceString accepts a string, or an integer that YAML decoded from an unquoted number
// (a group ID, for example).
func coerceString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	}
	return nil, fmt.Errorf("must be a string, not %s", describeValue(v))
}

// coerceScalarString turns any scalar into a string, since options such as log-opts
// only take strings: max-file 3 becomes "3" and compress true becomes "true".
func coerceScalarString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return nil, fmt.Errorf("must be a string, not %s", describeValue(v))
}

func coerceBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, fmt.Errorf("must be true or false, not %s", describeValue(v))
}

func coerceInt(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("must be an integer, not %s", describeValue(v))
}

// coerceSize accepts a size string or a number of bytes. dockerd reads default-shm-size
// only from a JSON string, so numbers are written as strings.
func coerceSize(v any) (any, error) {
	s, err := coerceString(v)
	if err != nil {
		return nil, fmt.Errorf("must be a size such as \"64M\", not %s", describeValue(v))
	}
	if !sizeRE.MatchString(s.(string)) {
		return nil, fmt.Errorf("invalid size %q: use a number with an optional unit, "+
			"such as \"64M\" or \"1GiB\"", s)
	}
	return s, nil
}

// coerceStrings accepts a list of scalars, or one string as a list of one item.
func coerceStrings(v any) (any, error) {
	if s, ok := v.(string); ok {
		return []any{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of strings, not %s", describeValue(v))
	}
	out := make([]any, len(list))
	for i, item := range list {
		s, err := coerceScalarString(item)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
		out[i] = s
	}
	return out, nil
}

func coerceMap(v any, coerceItem func(any) (any, error)) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a mapping, not %s", describeValue(v))
	}
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		item, err := coerceItem(m[k])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = item
	}
	return out, nil
}

func coerceAddressPools(v any) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of mappings with base and size, not %s",
			describeValue(v))
	}
	out := make([]any, len(list))
	for i, item := range list {
		pool, err := coerceFields(item, map[string]func(any) (any, error){
			"base": coerceString, "size": coerceInt,
		}, "base", "size")
		if err != nil {
			return nil, fmt.Errorf("pool %d: %w", i+1, err)
		}
		out[i] = pool
	}
	return out, nil
}

func coerceProxies(v any) (any, error) {
	return coerceFields(v, map[string]func(any) (any, error){
		"http-proxy": coerceString, "https-proxy": coerceString, "no-proxy": coerceString,
	})
}

// coerceUlimit checks one default-ulimits entry, such as
// {"Name": "nofile", "Hard": 64000, "Soft": 64000}.
func coerceUlimit(v any) (any, error) {
	return coerceFields(v, map[string]func(any) (any, error){
		"Name": coerceString, "Hard": coerceInt, "Soft": coerceInt,
	}, "Name", "Hard", "Soft")
}

// coerceFields checks a mapping whose keys must come from fields, each with its own
// coercion, and which must contain every key in required.
func coerceFields(v any, fields map[string]func(any) (any, error), required ...string) (
	any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a mapping, not %s", describeValue(v))
	}
	for _, name := range required {
		if _, ok := m[name]; !ok {
			return nil, fmt.Errorf("missing key %q", name)
		}
	}
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		coerce, ok := fields[k]
		if !ok {
			return nil, fmt.Errorf("unknown key %q: use %s", k, strings.Join(sortedKeys(fields), ", "))
		}
		item, err := coerce(m[k])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = item
	}
	return out, nil
}

// coerceObject accepts any mapping whose values JSON can represent, since dockerd checks the
// structure of runtimes and builder itself.
func coerceObject(v any) (any, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("must be a mapping, not %s", describeValue(v))
	}
	return normalizeYAML(v)
}

// normalizeYAML converts a decoded YAML value into values encoding/json can marshal,
// turning mappings with non-string keys into errors.
func normalizeYAML(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			n, err := normalizeYAML(item)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		return nil, fmt.Errorf("mapping keys must be strings")
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			n, err := normalizeYAML(item)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("%v cannot be written as JSON", x)
		}
	}
	return v, nil
}

// describeValue names the type of a decoded value for error messages.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case int, int64, float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// unknownKeyError names keys that dockerd does not accept and suggests the nearest
// known key for each.
func unknownKeyError(keys []string) error {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q", k)
		if proxyKeys[k] {
			parts[i] += " (set it under \"proxies\")"
		} else if hint := nearestDaemonKey(k); hint != "" {
			parts[i] += fmt.Sprintf(" (did you mean %q?)", hint)
		}
	}
	return fmt.Errorf("unknown daemon.json key %s: dockerd fails to start with a key it "+
		"does not know", strings.Join(parts, ", "))
}

// nearestDaemonKey returns the known key closest to key by edit distance, or "" when
// none is close enough to be a likely typo.
func nearestDaemonKey(key string) string {
	best, bestDist := "", len(key)/2+2
	for _, known := range sortedKeys(daemonKeys) {
		d := editDistance(strings.ToLower(key), known)
		if d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
