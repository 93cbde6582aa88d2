#!/bin/sh
# Records what ansible-inventory --list prints for the INI fixtures. TestINIMatchesAnsible
# compares the inventory that Parse reads from each fixture with this output.
#
# The recorded files come from ansible-core 2.14.18 on Debian 12
# (apt-get install ansible-core). Run this script again after changing a fixture.
set -eu

cd "$(dirname "$0")"
for fixture in ../ansible.ini values.ini; do
	name=$(basename "$fixture" .ini)
	ANSIBLE_INVENTORY_ENABLED=ini ansible-inventory -i "$fixture" --list \
		>"recorded/$name.json"
done
