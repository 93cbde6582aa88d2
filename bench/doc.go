// Package bench contains fleetharden's benchmarks. BenchmarkRunLightHosts runs
// light-playbook.yaml through the runner and the SSH transport against in-process SSH
// servers. run.sh compares the fleetharden command with Ansible and with a minimal SSH
// client on real OpenSSH servers. BENCHMARKS.md at the repository root records the
// results and the commands that produced them.
package bench
