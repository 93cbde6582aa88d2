package sshtest

import (
	"os"
	"syscall"
)

// groupAttr returns nil: Windows has no process groups to signal.
func groupAttr() *syscall.SysProcAttr {
	return nil
}

// signalGroup kills proc, the one thing that Windows can do to a process in
// place of a signal. Its children live on.
func signalGroup(proc *os.Process, _ syscall.Signal) {
	proc.Kill()
}
