// Package audit checks the Docker hosts of a fleet against security controls drawn from
// the CIS Docker Benchmark, changing nothing on them.
//
// On each host one shell command gathers the daemon's state: docker info, docker inspect
// of the running containers, dockerd's command line, daemon.json, the listening sockets,
// and the owner and mode of Docker's files. Gather turns that output into a State, in
// which the different spellings of one setting are already made the same (-H, --host
// and "hosts"; seccomp=unconfined and seccomp:unconfined; CAP_SYS_ADMIN and sys_admin).
//
// The controls are data: controls.yaml, embedded in the binary, defines each one with
// JSONPath conditions over the State, and a file of the same format can add controls or
// override them by id. Evaluate gives each control a Verdict with its evidence, and Run
// does all of it for many hosts at once. Report writes the results as a table, as JSON
// or as JUnit XML.
package audit
