//go:build !windows

package sshtest

import (
	"os"
	"syscall"
)

func init() {
	signals["USR1"] = syscall.SIGUSR1
	signals["USR2"] = syscall.SIGUSR2
}

// groupAttr starts a command in a process group of its own.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to the process group that proc leads.
func signalGroup(proc *os.Process, sig syscall.Signal) {
	syscall.Kill(-proc.Pid, sig)
}
