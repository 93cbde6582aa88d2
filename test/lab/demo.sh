#!/usr/bin/env bash
# demo.sh runs fleetharden's main job on a local lab: it installs Docker, builds and starts
# a lab of Debian hosts (3 unless LAB_HOSTS says otherwise), builds fleetharden and runs
# the built-in hardening playbook on every host, twice: the second run must change nothing.
# Needs root on Debian 12 and Go 1.26. The lab stays up; "test/lab/lab.sh down" removes it.
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_dir"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi
export LAB_STATE=${LAB_STATE:-$repo_dir/test/lab/.state}

test/lab/lab.sh deps
test/lab/lab.sh image
test/lab/lab.sh up "${LAB_HOSTS:-3}"

go build -o bin/fleetharden ./cmd/fleetharden
for pass in first second; do
	printf '\n==== %s run ====\n' "$pass"
	bin/fleetharden run -i "$LAB_STATE/inventory.yaml" \
		--known-hosts "$LAB_STATE/known_hosts" --json "$LAB_STATE/results-$pass.json"
done
printf '\nResults: %s/results-first.json and results-second.json\n' "$LAB_STATE"
printf 'Run again with: bin/fleetharden run -i %s --known-hosts %s\n' \
	"$LAB_STATE/inventory.yaml" "$LAB_STATE/known_hosts"
printf 'Remove the lab with: LAB_STATE=%s LAB_NAME=%s test/lab/lab.sh down\n' "$LAB_STATE" \
	"${LAB_NAME:-fleetharden-lab}"
