// Package playbooks embeds the playbooks that ship inside the fleetharden binary.
package playbooks

import _ "embed"

// DockerHardeningName is the file name of the built-in Docker hardening playbook.
const DockerHardeningName = "docker-hardening.yaml"

// DockerHardening is the built-in Docker hardening playbook, run when no playbook is named.
//
//go:embed docker-hardening.yaml
var DockerHardening []byte
