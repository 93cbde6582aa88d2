package tasks

import (
	"context"
	"fmt"
	"strings"
)

// validateScriptBody runs dockerd --validate on the file content it reads from standard
// input. The content goes to a directory that mktemp creates with mode 0700, so only the
// user running the task, root with become, can read it, and the directory is removed
// afterwards. The first line of output is "tmp=DIR"; dockerd's output follows. The
// script exits 125 when it cannot create the temporary file, and with dockerd's exit
// status otherwise. A dockerd older than Docker 23 has no --validate: the script then
// exits 0 without a check. The probe runs here, on the path that writes, because starting
// dockerd costs about 70 ms of CPU on a host. It expects the variable dockerd.
const validateScriptBody = `
"$dockerd" --help 2>&1 | grep -q -- --validate || exit 0
umask 077
dir=$(mktemp -d) || exit 125
echo "tmp=$dir"
if ! cat >"$dir/daemon.json"; then
	rm -rf "$dir"
	exit 125
fi
"$dockerd" --validate --config-file "$dir/daemon.json" 2>&1
status=$?
rm -rf "$dir"
exit "$status"
`

// validateDaemonFile checks data, a content of path that what names in errors ("the new
// /etc/docker/daemon.json"), with dockerd --validate, which Docker 23 and later have, and
// returns dockerd's message when it rejects the file.
func validateDaemonFile(ctx context.Context, h Host, dockerd, path string, data []byte,
	what string) error {
	script := "dockerd=" + Quote(dockerd) + "\n" + validateScriptBody
	res, err := h.Run(ctx, script, data)
	if err != nil {
		return &remoteError{op: "run dockerd --validate", err: err}
	}

	output := validateOutput(res.Stdout, path)
	switch res.ExitCode {
	case 0:
		return nil
	case 125:
		return fmt.Errorf("run dockerd --validate: create a temporary file: %s",
			outputTail(res.Stderr, 2))
	}
	return fmt.Errorf("dockerd --validate rejected %s: %s (the file was left "+
		"unchanged)", what, output)
}

// validateOutput returns dockerd's output on one line, naming path where dockerd names
// the temporary file.
func validateOutput(stdout []byte, path string) string {
	first, rest, _ := strings.Cut(string(stdout), "\n")
	if tmp, ok := strings.CutPrefix(first, "tmp="); ok && tmp != "" {
		rest = strings.ReplaceAll(rest, tmp+"/daemon.json", path)
	}
	return outputTail([]byte(rest), 2)
}
