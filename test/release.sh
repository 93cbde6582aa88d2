#!/usr/bin/env bash
# release.sh cross-compiles the fleetharden binary for the release targets
# into dist/, after vetting every package for the operating systems that are
# not this one. It needs only Go: CGO is off, so no C toolchain is involved.
#
#   test/release.sh            # all six targets
#   DIST=/tmp/out test/release.sh
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_dir"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi

dist=${DIST:-$repo_dir/dist}
targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)
version=$(git describe --always --dirty 2>/dev/null || echo dev)

for goos in windows darwin; do
	printf 'release: go vet for %s\n' "$goos"
	GOOS=$goos go vet ./...
done

mkdir -p "$dist"
for target in "${targets[@]}"; do
	goos=${target%/*}
	goarch=${target#*/}
	out=$dist/fleetharden-$version-$goos-$goarch
	[[ $goos == windows ]] && out+=.exe

	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath \
		-ldflags "-s -w -X main.version=$version" -o "$out" ./cmd/fleetharden
	printf 'release: built %s\n' "$out"
done
