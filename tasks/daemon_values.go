package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// daemonValueChecks holds a check for each key whose value dockerd parses beyond its JSON
// type. A check gets the value as decodeJSON returns it, after checkDaemonType accepted
// its type. Each check rejects only values that stop dockerd from starting, or that make
// every container fail to start, in at least one release from 20.10 to 28. Sources: the
// Validate function of moby's daemon/config package, its opts and registry packages,
// and go-units.
var daemonValueChecks = map[string]func(any) error{
	"bip":                      checkCIDR,
	"default-address-pools":    checkAddressPools,
	"default-gateway":          stringValue(checkIP),
	"default-gateway-v6":       stringValue(checkIP),
	"default-ulimits":          checkUlimits,
	"dns":                      eachString(checkIP),
	"dns-search":               eachString(checkDNSSearch),
	"exec-opts":                eachString(checkExecOpt),
	"fixed-cidr":               checkCIDR,
	"fixed-cidr-v6":            checkCIDR,
	"hosts":                    eachString(checkDaemonHost),
	"insecure-registries":      eachString(checkInsecureRegistry),
	"ip":                       stringValue(checkIP),
	"labels":                   checkLabels,
	"log-format":               stringValue(checkLogFormat),
	"log-level":                stringValue(checkLogLevel),
	"max-concurrent-downloads": checkNonNegative,
	"max-concurrent-uploads":   checkNonNegative,
	"max-download-attempts":    checkNonNegative,
	"mtu":                      checkNonNegative,
	"network-diagnostic-port":  checkPort,
	"node-generic-resources":   eachString(checkGenericResource),
	"registry-mirrors":         eachString(checkMirror),
}

// checkDaemonValues checks the values of doc, a daemon.json decoded by decodeJSON, with
// daemonValueChecks, and log-opts against logDriver. An empty logDriver means the driver
// is not known yet, so log-opts go unchecked. Rules between log-opts keys, such as
// compress needing max-file, are checked only when complete is set, since settings merge
// into log-opts key by key. noun names a key in messages: "setting" or "key".
func checkDaemonValues(doc map[string]any, noun, logDriver string, complete bool) error {
	for _, key := range sortedKeys(doc) {
		check := daemonValueChecks[key]
		if check == nil {
			continue
		}
		if err := check(doc[key]); err != nil {
			return fmt.Errorf("%s %q: %w", noun, key, err)
		}
	}

	opts, _ := doc["log-opts"].(map[string]any)
	if err := checkLogOpts(logDriver, opts, complete); err != nil {
		return fmt.Errorf("%s \"log-opts\": %w", noun, err)
	}
	return nil
}

// checkSettingValues checks the values of coerced settings before any host is contacted.
// log-opts are checked only when the settings also name the log driver, since the file
// on the host may name another.
func checkSettingValues(settings map[string]any) error {
	raw, err := marshalJSON(settings)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	decoded, err := decodeJSON(raw)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	doc, _ := decoded.(map[string]any)
	driver, _ := doc["log-driver"].(string)
	if driver == "" {
		// The host's file decides the driver, but the two drivers that know max-size and
		// max-file, json-file and local, read them as the same size and count.
		opts, _ := doc["log-opts"].(map[string]any)
		for _, key := range []string{"max-size", "max-file"} {
			if value, ok := opts[key].(string); ok {
				if err := checkLogOpt("local", key, value); err != nil {
					return fmt.Errorf("setting \"log-opts\": %w", err)
				}
			}
		}
	}
	return checkDaemonValues(doc, "setting", driver, false)
}

// stringValue adapts a check of one string to a value that checkDaemonType has already
// found to be a string.
func stringValue(check func(string) error) func(any) error {
	return func(v any) error {
		s, _ := v.(string)
		return check(s)
	}
}

// eachString checks every item of a list of strings.
func eachString(check func(string) error) func(any) error {
	return func(v any) error {
		list, _ := v.([]any)
		for i, item := range list {
			s, _ := item.(string)
			if err := check(s); err != nil {
				return fmt.Errorf("item %d: %w", i+1, err)
			}
		}
		return nil
	}
}

// checkLabels checks that each label is key=value and that no key has two values: dockerd
// fails to start with "bad attribute format" or "conflict labels".
func checkLabels(v any) error {
	list, _ := v.([]any)
	values := map[string]string{}
	for i, item := range list {
		label, _ := item.(string)
		key, value, ok := strings.Cut(label, "=")
		if !ok {
			return fmt.Errorf("item %d: invalid label %q: use the form key=value", i+1, label)
		}
		if prev, seen := values[key]; seen && prev != value {
			return fmt.Errorf("labels %q and %q give the key %q two values: keep one",
				key+"="+prev, label, key)
		}
		values[key] = value
	}
	return nil
}

// checkDaemonHost checks one -H address: unix://PATH, tcp://HOST:PORT, HOST:PORT, fd:// or
// fd://NAME, or empty for the default socket.
func checkDaemonHost(addr string) error {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil
	}
	scheme, rest, found := strings.Cut(addr, "://")
	if !found {
		scheme, rest = "tcp", addr
	}

	switch scheme {
	case "fd":
		return nil
	case "unix":
		if strings.Contains(rest, "://") {
			return fmt.Errorf("invalid address %q: a unix address is unix://PATH", addr)
		}
		return nil
	case "tcp":
		return checkTCPAddress(addr, rest)
	case "ssh":
		return fmt.Errorf("invalid address %q: ssh:// is an address for the docker client, "+
			"and dockerd cannot listen on it: use unix:// or tcp://", addr)
	}
	return fmt.Errorf("invalid address %q: unsupported scheme %q on Linux: use unix://, "+
		"tcp:// or fd://", addr, scheme)
}

// checkTCPAddress checks rest, the part of a tcp:// address after the scheme, which may
// leave out the host, the port or both.
func checkTCPAddress(addr, rest string) error {
	u, err := url.Parse("tcp://" + rest)
	if err != nil {
		return fmt.Errorf("invalid address %q: %w", addr, errors.Unwrap(err))
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("invalid address %q: use tcp://HOST:PORT, without a path, "+
			"query or user", addr)
	}
	return checkPortText(addr, u.Port())
}

// checkPortText checks a port number given as text; "" means the default port.
func checkPortText(addr, port string) error {
	if port == "" {
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q in %q: use a number from 0 to 65535", port, addr)
	}
	return nil
}

func checkIP(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("invalid IP address %q: use an address such as 192.0.2.53 or "+
			"2001:db8::53, without brackets or a port", s)
	}
	return nil
}

func checkCIDR(v any) error {
	s, _ := v.(string)
	if _, _, err := net.ParseCIDR(s); err != nil {
		return fmt.Errorf("invalid CIDR %q: use an address with a prefix length, such as "+
			"172.17.0.1/16", s)
	}
	return nil
}

// dnsSearchRE is the domain syntax of dockerd's dns-search check: labels of letters,
// digits and inner hyphens, separated by dots, with an optional final dot.
var dnsSearchRE = regexp.MustCompile(
	`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*\.?$`)

// checkDNSSearch checks a search domain. dockerd also requires a letter in it, and takes
// "." for an empty search list.
func checkDNSSearch(domain string) error {
	trimmed := strings.Trim(domain, " ")
	if trimmed == "." {
		return nil
	}
	hasLetter := strings.IndexFunc(trimmed, func(r rune) bool {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}) >= 0
	if !hasLetter || !dnsSearchRE.MatchString(trimmed) || len(trimmed) >= 255 {
		return fmt.Errorf("invalid search domain %q: use a domain name such as "+
			"example.org", domain)
	}
	return nil
}

// checkExecOpt checks an exec-opts item, which dockerd reads as opt=value.
func checkExecOpt(opt string) error {
	key, value, ok := strings.Cut(opt, "=")
	if !ok || strings.TrimSpace(key) == "" || strings.TrimSpace(value) == "" {
		return fmt.Errorf("invalid exec-opt %q: use the form opt=value, such as "+
			"native.cgroupdriver=systemd", opt)
	}
	return nil
}

func checkGenericResource(resource string) error {
	if !strings.Contains(resource, "=") {
		return fmt.Errorf("invalid node generic resource %q: use the form name=value, "+
			"such as gpu=UUID1", resource)
	}
	return nil
}

// checkMirror checks a registry mirror URL as dockerd does: http or https, with nothing
// after the host but an optional "/", and no user name.
func checkMirror(mirror string) error {
	u, err := url.Parse(mirror)
	if err != nil {
		return errors.New("invalid registry mirror: not a URL")
	}
	shown := redactURL(u)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("invalid registry mirror %q: use an http:// or https:// URL", shown)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("invalid registry mirror %q: remove the path, query or fragment "+
			"after the host", shown)
	case u.User != nil:
		return fmt.Errorf("invalid registry mirror %q: a user name or password is not "+
			"allowed in the URL", shown)
	}
	return nil
}

// redactURL shows u with its password replaced, for messages.
func redactURL(u *url.URL) string {
	if _, hasPassword := u.User.Password(); hasPassword {
		c := *u
		c.User = url.UserPassword(u.User.Username(), "xxxxx")
		return c.String()
	}
	return u.String()
}

// registryHostRE is a registry host name with an optional port, as in image references.
var registryHostRE = regexp.MustCompile(`^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])` +
	`(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]+)?$`)

// checkInsecureRegistry checks an insecure-registries item: a CIDR, or a host with an
// optional port. dockerd strips an http:// or https:// prefix and rejects other schemes.
func checkInsecureRegistry(registry string) error {
	if strings.HasPrefix(registry, "-") || strings.HasSuffix(registry, "-") {
		return fmt.Errorf("invalid insecure registry %q: it must not begin or end with '-'",
			registry)
	}
	host := registry
	lower := strings.ToLower(registry)
	switch {
	case strings.HasPrefix(lower, "http://"):
		host = registry[len("http://"):]
	case strings.HasPrefix(lower, "https://"):
		host = registry[len("https://"):]
	case strings.Contains(registry, "://"):
		return fmt.Errorf("invalid insecure registry %q: use HOST[:PORT] or a CIDR, "+
			"without a scheme", registry)
	}

	if _, _, err := net.ParseCIDR(host); err == nil {
		return nil
	}
	return checkRegistryHost(registry, host)
}

// checkRegistryHost checks HOST[:PORT], where HOST is a domain name or an IP address.
func checkRegistryHost(registry, hostPort string) error {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		host, port = hostPort, ""
	}
	if !registryHostRE.MatchString(hostPort) && net.ParseIP(host) == nil {
		return fmt.Errorf("invalid insecure registry %q: use HOST[:PORT], such as "+
			"registry.example.org:5000, or a CIDR such as 10.0.0.0/8", registry)
	}
	return checkPortText(registry, port)
}

// ulimitNames are the names that dockerd maps to resource limits (go-units).
var ulimitNames = map[string]bool{
	"core": true, "cpu": true, "data": true, "fsize": true, "locks": true,
	"memlock": true, "msgqueue": true, "nice": true, "nofile": true, "nproc": true,
	"rss": true, "rtprio": true, "rttime": true, "sigpending": true, "stack": true,
}

// checkUlimits checks default-ulimits, such as
// {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}. Every container fails to
// start with an unknown Name or a Soft limit above the Hard one.
func checkUlimits(v any) error {
	limits, _ := v.(map[string]any)
	for _, key := range sortedKeys(limits) {
		if err := checkUlimit(limits[key]); err != nil {
			return fmt.Errorf("ulimit %q: %w", key, err)
		}
	}
	return nil
}

func checkUlimit(v any) error {
	limit, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object with Name, Hard and Soft, not %s",
			describeJSON(v))
	}
	name, _ := limit["Name"].(string)
	if !ulimitNames[name] {
		return fmt.Errorf("unknown Name %q: use one of %s", name,
			strings.Join(sortedKeys(ulimitNames), ", "))
	}

	hard, err := optionalInt("Hard", limit["Hard"])
	if err != nil {
		return err
	}
	soft, err := optionalInt("Soft", limit["Soft"])
	if err != nil {
		return err
	}
	// The kernel compares limits as unsigned numbers, so -1 is the largest: unlimited.
	if uint64(soft) > uint64(hard) {
		return fmt.Errorf("Soft %d is above Hard %d: the kernel rejects it", soft, hard)
	}
	return nil
}

// optionalInt returns the integer field of an object; a missing field is 0, as dockerd
// decodes it.
func optionalInt(field string, v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s must be an integer, not %s", field, describeJSON(v))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, not %s", field, n)
	}
	return i, nil
}

func checkLogFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("invalid log format %q: use text or json", format)
	}
	return nil
}

// checkLogLevel accepts the levels of dockerd 28, in any case. dockerd 20.10 also took
// "warning", which later releases reject.
func checkLogLevel(level string) error {
	switch strings.ToLower(level) {
	case "panic", "fatal", "error", "warn", "info", "debug", "trace":
		return nil
	case "warning":
		return fmt.Errorf("invalid log level %q: use warn, since dockerd 23 and later "+
			"reject warning", level)
	}
	return fmt.Errorf("invalid log level %q: use debug, info, warn, error or fatal", level)
}

func checkNonNegative(v any) error {
	if n, err := optionalInt("value", v); err != nil || n < 0 {
		return fmt.Errorf("invalid value %s: use 0 or a positive integer", v)
	}
	return nil
}

func checkPort(v any) error {
	if n, err := optionalInt("port", v); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %s: use a number from 0 to 65535", v)
	}
	return nil
}

// checkAddressPools checks that each pool's base is a CIDR and that its size, the prefix
// length of the networks cut from it, lies between the base's prefix length and the
// address length.
func checkAddressPools(v any) error {
	pools, _ := v.([]any)
	for i, item := range pools {
		pool, _ := item.(map[string]any)
		if err := checkAddressPool(pool); err != nil {
			return fmt.Errorf("pool %d: %w", i+1, err)
		}
	}
	return nil
}

func checkAddressPool(pool map[string]any) error {
	base, _ := pool["base"].(string)
	_, network, err := net.ParseCIDR(base)
	if err != nil {
		return fmt.Errorf("invalid base %q: use a CIDR such as 10.10.0.0/16", base)
	}
	ones, bits := network.Mask.Size()
	size, err := optionalInt("size", pool["size"])
	if err != nil || size < int64(ones) || size > int64(bits) {
		return fmt.Errorf("invalid size %v for base %s: use a prefix length from %d to %d",
			pool["size"], base, ones, bits)
	}
	return nil
}
