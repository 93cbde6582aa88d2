package tasks

import (
	"strconv"
	"strings"
)

// remoteError is a failure of Host.Run, such as a lost connection, described by what the
// command was for and by its cause. It leaves out the command itself: transport.Client
// starts its message with `run "COMMAND"`, which for a script is up to 200 bytes of
// shell that hide the cause. errors.Is and errors.As still see the transport's error.
type remoteError struct {
	op  string // what the command was for, such as "run apt-get"
	err error  // the error of Host.Run
}

func (e *remoteError) Error() string {
	return e.op + ": " + runFailureCause(e.err)
}

func (e *remoteError) Unwrap() error { return e.err }

// RemoteError returns err, a failure of Host.Run, described by op, what the command was
// for, in place of the command itself.
func RemoteError(op string, err error) error {
	return &remoteError{op: op, err: err}
}

// runFailureCause returns the message of an error of Host.Run without the leading
// `run "COMMAND": ` of transport.Client. Other messages are returned whole.
func runFailureCause(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "run ")
	if !ok {
		return msg
	}
	quoted, qerr := strconv.QuotedPrefix(rest)
	if qerr != nil {
		return msg
	}
	if cause, ok := strings.CutPrefix(rest[len(quoted):], ": "); ok {
		return cause
	}
	return msg
}
