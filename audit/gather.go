package audit

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/fleetharden/fleetharden/transport"
)

// Host is the view of a remote host that the audit needs: running a read-only command,
// as root when the inventory sets become.
type Host interface {
	Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error)
}

var _ Host = (*transport.Client)(nil)

// probeFunctions defines the shell functions that print probe results as JSON.
//
//go:embed probe.sh
var probeFunctions string

// gatherBody runs every probe of a host and prints the probes object.
//
//go:embed gather.sh
var gatherBody string

// gatherStatPaths are the files whose owner and mode the gather script reads, besides the
// unit files of docker.service and docker.socket.
var gatherStatPaths = []string{"/etc/docker", defaultConfigFile, "/etc/default/docker",
	"/etc/sysconfig/docker", "/var/run/docker.sock", "/run/docker.sock"}

// gatherScript is the one command that gathers a host's state.
var gatherScript = probeFunctions +
	"stat_format=" + shellQuote(statFormat) + "\n" +
	"stat_paths=" + shellQuote(strings.Join(gatherStatPaths, " ")) + "\n" +
	gatherBody

// probeFormat is the version of the probes object that the scripts print.
const probeFormat = 1

// maxGatherRounds bounds the commands that one host's gathering runs: the first reads
// the usual files, and later ones read files whose path only the first one revealed,
// such as a daemon.json named by --config-file.
const maxGatherRounds = 3

// probe is the outcome of one command of the gather script.
type probe struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
}

// err returns nil when the command exited 0, and otherwise an error naming it, with its
// exit status and standard error.
func (p probe) err(command string) error {
	if p.Exit == 0 {
		return nil
	}
	msg := strings.TrimSpace(p.Stderr)
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if p.Exit == 127 {
		return fmt.Errorf("%s: command not found: %s", command, msg)
	}
	return fmt.Errorf("%s: exit status %d: %s", command, p.Exit, msg)
}

// probes is the JSON object that the gather script prints.
type probes struct {
	Format           int   `json:"format"`
	DockerInfo       probe `json:"docker_info"`
	Containers       probe `json:"containers"`
	Bridge           probe `json:"bridge"`
	DockerdCmdline   probe `json:"dockerd_cmdline"`
	Service          probe `json:"service"`
	Socket           probe `json:"socket"`
	Listeners        probe `json:"listeners"`
	DaemonJSON       probe `json:"daemon_json"`
	Stat             probe `json:"stat"`
	DockerGroup      probe `json:"docker_group"`
	DockerGroupUsers probe `json:"docker_group_users"`

	// configPath is the file that DaemonJSON read.
	configPath string
	// extraStats are the paths that extra scripts stat'ed.
	extraStats []string
}

// Gather reads the state of the Docker daemon on h with one command, or with up to
// three when dockerd reads its configuration or serves its socket at a path that is
// not the default one. It changes nothing on the host.
func Gather(ctx context.Context, h Host) (*State, error) {
	p, err := runProbes(ctx, h, gatherScript)
	if err != nil {
		return nil, err
	}

	// Without the daemon no extra file is worth reading: newState reports the error.
	for round := 1; round < maxGatherRounds && p.DockerInfo.Exit == 0; round++ {
		config, paths := p.missingFiles()
		if config == "" && len(paths) == 0 {
			break
		}
		extra, err := runProbes(ctx, h, extraScript(config, paths))
		if err != nil {
			return nil, err
		}
		p.merge(extra, config, paths)
	}

	return newState(p)
}

// runProbes runs a probe script and parses the object it prints.
func runProbes(ctx context.Context, h Host, script string) (*probes, error) {
	res, err := h.Run(ctx, script, nil)
	if err != nil {
		return nil, fmt.Errorf("gather the Docker state: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("gather the Docker state: exit status %d: %s", res.ExitCode,
			strings.TrimSpace(string(res.Stderr)))
	}
	if res.Truncated {
		return nil, errors.New("gather the Docker state: the output is over the 4 MiB " +
			"that fleetharden keeps of a command")
	}
	return parseProbes(res.Stdout)
}

// parseProbes parses the output of a probe script.
func parseProbes(data []byte) (*probes, error) {
	var p probes
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse the output of the gather script: %w", err)
	}
	if p.Format != probeFormat {
		return nil, fmt.Errorf("parse the output of the gather script: format %d, want %d",
			p.Format, probeFormat)
	}
	p.configPath = defaultConfigFile
	return &p, nil
}

// extraScript returns a script that reads the configuration file config, unless it is
// empty, and stats the files at paths.
func extraScript(config string, paths []string) string {
	var b strings.Builder
	b.WriteString(probeFunctions)
	b.WriteString("printf '{\"format\":1,'\n")
	if config != "" {
		b.WriteString("probe daemon_json cat -- " + shellQuote(config) + "\n")
	}
	if len(paths) > 0 {
		b.WriteString("probe stat stat -L -c " + shellQuote(statFormat) + " --")
		for _, p := range paths {
			b.WriteString(" " + shellQuote(p))
		}
		b.WriteString("\n")
	}
	b.WriteString("printf '\"end\":true}\\n'\n")
	return b.String()
}

// statFormat is the format of the stat probe's lines: path, owner, group, octal mode
// and file type, separated by tabs.
const statFormat = "%n\t%U\t%G\t%a\t%F"

// missingFiles returns the configuration file to read, when dockerd reads another one
// than the probes did, and the paths of the daemon's files that no probe stat'ed.
func (p *probes) missingFiles() (config string, paths []string) {
	cfg := newDaemonConfig(p)
	if cfg.file != p.configPath {
		config = cfg.file
	}

	statted := map[string]bool{}
	for _, list := range [][]string{gatherStatPaths, p.unitPaths(), p.extraStats} {
		for _, path := range list {
			statted[path] = true
		}
	}
	for _, want := range []string{cfg.file, cfg.socketPath()} {
		if !statted[want] {
			paths = append(paths, want)
		}
	}
	return config, paths
}

// merge adds the output of an extra script that read config, unless it is empty, and
// stat'ed paths.
func (p *probes) merge(extra *probes, config string, paths []string) {
	if config != "" {
		p.DaemonJSON = extra.DaemonJSON
		p.configPath = config
	}
	p.Stat.Stdout = joinLines(p.Stat.Stdout, extra.Stat.Stdout)
	p.Stat.Stderr = joinLines(p.Stat.Stderr, extra.Stat.Stderr)
	p.extraStats = append(p.extraStats, paths...)
}

// splitLines returns the non-empty lines of s.
func splitLines(s string) []string {
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

func joinLines(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n" + b
}

// parseStat reads the lines of the stat probe into files by path.
func parseStat(out string) map[string]File {
	files := map[string]File{}
	for _, line := range splitLines(out) {
		fields := strings.Split(line, "\t")
		if len(fields) != 5 {
			continue
		}
		var mode uint32
		if _, err := fmt.Sscanf(fields[3], "%o", &mode); err != nil {
			continue
		}
		files[fields[0]] = File{Path: fields[0], Exists: true, Owner: fields[1],
			Group: fields[2], Mode: fmt.Sprintf("%04o", mode), Type: fields[4]}
	}
	return files
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cleanPath returns p cleaned, or "" for "".
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}
