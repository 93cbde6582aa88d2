package tasks

import (
	"fmt"
	"strings"
)

// hostsFromFlags decides how a hosts setting is met when dockerd's command line already
// passes -H. It returns a note when every -H value is fd:// or a unix socket and every
// requested value is a unix socket: the API is then local only, and hosts must stay out
// of the file. It fails when a -H value exposes the API over the network. When the hosts
// setting requests more than the flags give, it returns "" and checkFlagConflicts
// reports the conflict.
func hostsFromFlags(requested []any, cl *daemonCommandLine) (string, error) {
	flags := cl.flagsFor("hosts")
	if len(flags) == 0 {
		return "", nil
	}
	for _, f := range flags {
		if !isLocalSocket(f.Value, true) {
			return "", fmt.Errorf("%s passes %s, which exposes the Docker API over the "+
				"network: remove that flag from the unit's ExecStart or DOCKER_OPTS, then "+
				"restart docker", cl.Source, f.Text)
		}
	}
	for _, v := range requested {
		if s, _ := v.(string); !isLocalSocket(s, false) {
			return "", nil
		}
	}
	return fmt.Sprintf("hosts is set by %s in %s: the API listens on the unix socket only",
		flagTexts(flags), cl.Source), nil
}

// isLocalSocket reports whether a -H value is a unix socket or, when allowFD is set, a
// socket that systemd passes to dockerd (fd://). An empty value means the default unix
// socket.
func isLocalSocket(v string, allowFD bool) bool {
	return v == "" || strings.HasPrefix(v, "unix://") || (allowFD && strings.HasPrefix(v, "fd://"))
}

func flagTexts(flags []daemonFlag) string {
	texts := make([]string, len(flags))
	for i, f := range flags {
		texts[i] = f.Text
	}
	return strings.Join(texts, " ")
}

// checkFlagConflicts returns an error naming each key of doc that dockerd's command line
// also sets, since dockerd then fails to start ("directives specified both as a flag
// and in the configuration file").
func checkFlagConflicts(doc jsonObject, cl *daemonCommandLine, path string) error {
	var conflicts []string
	for _, n := range flattenDaemonKeys(doc) {
		if n.Name == "runtimes" {
			continue // --add-runtime adds to the runtimes of the file
		}
		flags := cl.flagsFor(n.Name)
		if len(flags) == 0 {
			continue
		}
		key := n.Name
		if n.Parent != "" {
			key = n.Parent + "." + n.Name
		}
		conflicts = append(conflicts, fmt.Sprintf("key %q (flag %s)", key, flagTexts(flags)))
	}
	if len(conflicts) == 0 {
		return nil
	}
	return fmt.Errorf("%s sets %s, which %s would also set: dockerd fails to start when a "+
		"directive is both a flag and in the configuration file; remove the flag from the "+
		"unit or keep the key out of the file (the file was left unchanged)",
		cl.Source, strings.Join(conflicts, ", "), path)
}
