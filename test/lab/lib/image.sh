# shellcheck shell=bash disable=SC2154 # lab.sh sets the variables used here
# image.sh builds the lab's two Docker images from Debian's packages and a Go
# program, since no image can be pulled from a registry. lab.sh sources it.

# debian_sources prints this machine's enabled APT source files that a lab
# host can use too: those that name no keyring or Debian's own keyring.
debian_sources() {
	local file

	for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[[ -s $file ]] || continue
		if grep -qi 'signed-by' "$file" && ! grep -qi 'debian-archive-keyring' "$file"; then
			continue
		fi
		printf '%s\n' "$file"
	done
}

# apt_settings prints this machine's APT configuration files that change how
# the mirror is reached (a proxy) or which archives are accepted (a snapshot
# archive whose Release files have expired).
apt_settings() {
	local file

	for file in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
		[[ -f $file ]] || continue
		if grep -qiE 'Acquire::.*(proxy|check-valid-until|check-date)' "$file"; then
			printf '%s\n' "$file"
		fi
	done
}

# apt_mirror prints the Debian mirror for debootstrap: LAB_APT_MIRROR, or the
# first source of this machine that serves the suite, or deb.debian.org.
apt_mirror() {
	local files mirror

	if [[ -n ${LAB_APT_MIRROR:-} ]]; then
		printf '%s\n' "$LAB_APT_MIRROR"
		return
	fi

	mapfile -t files < <(debian_sources)
	if ((${#files[@]} > 0)); then
		mirror=$(awk -v suite="$suite" -f "$lab_dir/lib/mirror.awk" "${files[@]}")
	fi
	printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

# export_apt_proxy passes an HTTP proxy set in APT's configuration on to
# debootstrap, which downloads with wget and reads only the environment.
export_apt_proxy() {
	local http_proxy=''

	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	if [[ -n $http_proxy ]]; then
		export http_proxy
	fi
}

# host_recipe prints a hash of everything the host image is built from, so
# "image" rebuilds exactly when one of those inputs changes.
host_recipe() {
	local mirror=$1

	{
		printf '%s\n' "$suite" "$mirror" "${host_packages[*]}" "$become_password"
		declare -f build_host_rootfs copy_apt_config import_host_image
		(cd "$lab_dir/image" && find . -type f -printf '%m %p\n' | sort)
		(cd "$lab_dir/image" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		debian_sources | xargs -r cat
		apt_settings | xargs -r cat
	} | sha256sum | cut -c1-16
}

image_recipe_label() {
	docker image inspect --format "{{index .Config.Labels \"$recipe_label\"}}" "$1" \
		2>/dev/null || true
}

# copy_apt_config gives the host this machine's Debian sources and APT
# settings, so "apt-get update" on a lab host reaches the same mirror.
copy_apt_config() {
	local rootfs=$1
	local file sources

	# debootstrap wrote a sources.list for its mirror: drop it when this
	# machine's sources replace it, or APT warns of duplicate targets.
	mapfile -t sources < <(debian_sources)
	if ((${#sources[@]} > 0)); then
		rm -f "$rootfs/etc/apt/sources.list"
	fi
	for file in "${sources[@]}"; do
		install -D -m 0644 "$file" "$rootfs$file"
	done
	while read -r file; do
		install -D -m 0644 "$file" "$rootfs$file"
	done < <(apt_settings)
}

build_host_rootfs() {
	local rootfs=$1 mirror=$2
	local include

	include=$(IFS=,; printf '%s' "${host_packages[*]}")
	mkdir -p "$cache_dir/debootstrap"
	export_apt_proxy
	debootstrap --variant=minbase --include="$include" \
		--cache-dir="$cache_dir/debootstrap" "$suite" "$rootfs" "$mirror"

	copy_apt_config "$rootfs"
	cp -R --preserve=mode "$lab_dir/image/files/." "$rootfs/"
	chroot "$rootfs" /usr/bin/env BECOME_PASSWORD="$become_password" /bin/bash -s \
		<"$lab_dir/image/setup.sh"
}

import_host_image() {
	local rootfs=$1 recipe=$2

	tar --numeric-owner -C "$rootfs" -c . |
		docker import \
			--change "LABEL $lab_label=host $recipe_label=$recipe" \
			--change 'CMD ["/lib/systemd/systemd"]' \
			- "$host_image" >/dev/null
}

build_host_image() {
	local mirror recipe rootfs

	mirror=$(apt_mirror)
	recipe=$(host_recipe "$mirror")
	if [[ $(image_recipe_label "$host_image") == "$recipe" ]]; then
		log "$host_image is current (recipe $recipe)"
		return
	fi

	log "building $host_image (recipe $recipe) from $mirror"
	local started=$SECONDS
	rootfs=$(mktemp -d /var/tmp/fleetharden-lab-rootfs.XXXXXX)
	# shellcheck disable=SC2064 # expand rootfs now: it is local to this function
	trap "rm -rf --one-file-system '$rootfs'" EXIT

	build_host_rootfs "$rootfs" "$mirror"
	import_host_image "$rootfs" "$recipe"

	rm -rf --one-file-system "$rootfs"
	trap - EXIT
	log "built $host_image in $((SECONDS - started)) s"
}

workload_recipe() {
	{
		go version
		cat "$lab_dir/workload/main.go"
	} | sha256sum | cut -c1-16
}

import_workload_image() {
	local recipe=$1
	local build_dir

	build_dir=$(mktemp -d)
	(cd "$repo_dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' \
		-o "$build_dir/workload" ./test/lab/workload)
	tar --numeric-owner -C "$build_dir" -c workload |
		docker import \
			--change "LABEL $lab_label=workload $recipe_label=$recipe" \
			--change 'ENTRYPOINT ["/workload"]' \
			- "$workload_image" >/dev/null
	rm -rf "$build_dir"
}

# build_workload_image builds the image whose containers lab tests start on
# lab hosts, and saves it to the state directory for "up" to load there.
build_workload_image() {
	local recipe

	ensure_go
	recipe=$(workload_recipe)
	if [[ $(image_recipe_label "$workload_image") == "$recipe" ]]; then
		log "$workload_image is current (recipe $recipe)"
	else
		log "building $workload_image (recipe $recipe)"
		import_workload_image "$recipe"
	fi

	mkdir -p "$state_dir"
	chmod 0700 "$state_dir"
	docker save -o "$state_dir/workload.tar" "$workload_image"
}

cmd_image() {
	docker_ready || die "no Docker daemon is running; run lab.sh deps first"

	build_host_image
	build_workload_image
}
