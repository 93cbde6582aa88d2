#!/bin/bash
# setup.sh configures a freshly debootstrapped lab host root file system. lab.sh
# runs it inside a chroot of that file system, after copying image/files over it,
# with BECOME_PASSWORD set to the sudo password of the user fleetpw.
set -euo pipefail

: "${BECOME_PASSWORD:?BECOME_PASSWORD must be set to the sudo password of fleetpw}"

add_user() {
	local user=$1

	if ! id "$user" >/dev/null 2>&1; then
		useradd --create-home --shell /bin/bash "$user"
	fi
}

# fleet and fleetpw log in with keys only. The password "*" matches no input
# but, unlike the locked "!" that useradd sets, does not mark the account
# as locked for tools that check it.
for user in fleet fleetpw alice bob; do
	add_user "$user"
done
usermod --password '*' fleet
echo "fleetpw:${BECOME_PASSWORD}" | chpasswd

chmod 0440 /etc/sudoers.d/fleet /etc/sudoers.d/fleetpw
visudo --check --quiet

# Every host generates its own host keys at first boot.
rm -f /etc/ssh/ssh_host_*

systemctl enable lab-ssh-host-keys.service ssh.service docker.service docker.socket

# systemd creates a transient machine id at boot when this file is empty.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id

apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*
