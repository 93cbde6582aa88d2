# shellcheck shell=bash disable=SC2154 # lab.sh sets the variables used here
# deps.sh installs what the lab needs on the build machine and starts the
# Docker daemon there. lab.sh sources it.

# debootstrap checks the signature of the suite's Release file against
# debian-archive-keyring, which it only recommends.
readonly lab_apt_packages=(docker.io debootstrap debian-archive-keyring openssh-client)

docker_ready() {
	timeout 10 docker info >/dev/null 2>&1
}

# install_packages installs the lab's Debian packages when one is missing,
# and runs "apt-get update" only then, so a second run does no network work.
install_packages() {
	local missing=()
	local package

	for package in "${lab_apt_packages[@]}"; do
		if ! dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
			missing+=("$package")
		fi
	done
	if ((${#missing[@]} == 0)); then
		log "packages already installed: ${lab_apt_packages[*]}"
		return
	fi

	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# start_dockerd starts dockerd in the background unless a daemon already
# responds on /var/run/docker.sock. PID 1 on the build machine is not systemd, so nothing
# else starts it.
start_dockerd() {
	if docker_ready; then
		log "Docker daemon already running"
		return
	fi

	log "starting dockerd, log in $dockerd_log"
	mkdir -p "$(dirname "$dockerd_log")"
	setsid dockerd </dev/null >>"$dockerd_log" 2>&1 &

	if ! wait_until 60 docker_ready; then
		tail -n 30 "$dockerd_log" >&2 || true
		die "dockerd timed out: no response within 60 s; see $dockerd_log"
	fi
	log "Docker daemon $(docker version --format '{{.Server.Version}}') is up"
}

cmd_deps() {
	((EUID == 0)) || die "deps must run as root to install packages and start dockerd"

	install_packages
	start_dockerd
}
