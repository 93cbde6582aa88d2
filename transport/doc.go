// Package transport connects fleetharden to its hosts over SSH.
//
// A Client holds one SSH connection per host, shared by every task of that
// host. Without Config.Become, commands run over exec channels, one per
// command, through the login user's shell. With it, one root shell started
// through sudo runs them in turn, and a command that needs its own input
// runs through sudo on a channel of its own. Files move over one SFTP
// session per connection, opened on the first file operation, as root with
// Become. The sudo password travels only on the standard input of sudo,
// never on a command line or in an environment variable.
//
// Config.Jumps reaches a host through jump hosts, as OpenSSH's ProxyJump
// does, and Bastions shares one connection per jump host among all the hosts
// of a run. SSHConfig reads the OpenSSH client configuration (ssh_config)
// that a host's settings and jump hosts can come from.
//
// Errors wrap the sentinels ErrUnreachable, ErrAuth, ErrHostKeyUnknown,
// ErrHostKeyChanged, ErrBecome and ErrTimeout, so callers decide with
// errors.Is. A command that exits nonzero is not a transport error: Run
// returns its Result, and Result.Err turns a nonzero exit into a
// *CommandError.
package transport
