#!/usr/bin/env bash
# all.sh runs every fleetharden test on a Debian 12 machine as root, starting
# from nothing. It installs and starts Docker and runs go vet and the unit
# tests, and cross-compiles the release binaries into dist/. Then it builds the
# lab images, starts a lab of 3 hosts and runs the lab tests against it. It
# removes the lab on exit.
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_dir"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi

lab=test/lab/lab.sh
export LAB_STATE=${LAB_STATE:-$repo_dir/test/lab/.state}

section() {
	printf '\n==== %s ====\n' "$*"
}

section "Install and start Docker"
"$lab" deps

section "go vet"
go version
go vet ./...
go vet -tags lab ./test/... ./transport/... ./tasks/...

section "Unit tests"
go test -race ./...
for f in inventory.FuzzParse{,INI} playbook.FuzzParse tasks.FuzzMergeDaemonConfig; do go test -run '^$' -fuzz "^${f#*.}\$" -fuzztime 10s "./${f%.*}"; done

section "Release builds"
test/release.sh

section "Build lab images"
"$lab" image

# stop_lab keeps the exit status of the tests, even when removing the lab fails.
stop_lab() {
	section "Remove lab"
	"$lab" down || printf 'all.sh: lab.sh down failed\n' >&2
}
trap stop_lab EXIT

section "Start lab"
"$lab" up 3

section "Lab tests"
FLEETHARDEN_LAB=$(cd "$LAB_STATE" && pwd) \
	go test -tags lab -count=1 -timeout 40m ./test/... ./transport/... ./tasks/...
