package sshtest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// signals maps SSH signal names (RFC 4254, section 6.10) to signals.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE,
	"HUP": syscall.SIGHUP, "ILL": syscall.SIGILL, "INT": syscall.SIGINT,
	"KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE, "QUIT": syscall.SIGQUIT,
	"SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM,
}

// process is a command started for an exec request, in its own process
// group so that signals reach its children too.
type process struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	exited bool
}

// signal sends sig to the process group unless the command has exited.
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.exited {
		signalGroup(p.cmd.Process, sig)
	}
}

// serveSession handles the requests of one session channel. When the
// client closes the channel, the command still running is killed.
func (s *Server) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer s.wg.Done()
	defer ch.Close()

	var proc *process
	for req := range reqs {
		switch req.Type {
		case "exec":
			proc = s.startExec(ch, req, proc)
		case "subsystem":
			s.startSubsystem(ch, req, proc)
		case "signal":
			signalProcess(proc, req)
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}

	if proc != nil {
		proc.signal(syscall.SIGKILL)
	}
}

// startExec runs the command of an exec request and reports its exit status
// on ch when it ends. A session runs one command at most.
func (s *Server) startExec(ch ssh.Channel, req *ssh.Request, running *process) *process {
	var payload struct{ Command string }
	if running != nil || ssh.Unmarshal(req.Payload, &payload) != nil {
		req.Reply(false, nil)
		return running
	}

	s.mu.Lock()
	s.commands = append(s.commands, payload.Command)
	env := append(os.Environ(), s.env...)
	s.mu.Unlock()

	proc, err := startCommand(ch, payload.Command, env)
	if err != nil {
		req.Reply(false, nil)
		return nil
	}

	req.Reply(true, nil)
	go func() {
		err := proc.cmd.Wait()
		proc.mu.Lock()
		proc.exited = true
		proc.mu.Unlock()

		sendExit(ch, err)
		ch.Close()
	}()
	return proc
}

// startCommand starts /bin/sh -c command wired to ch.
func startCommand(ch ssh.Channel, command string, env []string) (*process, error) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = env
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	cmd.SysProcAttr = groupAttr()
	// A child left in the background may hold stdout open; do not wait on
	// it for long.
	cmd.WaitDelay = time.Second

	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}

	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	return &process{cmd: cmd}, nil
}

// sendExit sends exit-status, or exit-signal for a killed command.
func sendExit(ch ssh.Channel, err error) {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{255}))
		return
	}

	status := 0
	if exitErr != nil {
		ws := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}{Signal: signalName(ws.Signal())}))
			return
		}
		status = ws.ExitStatus()
	}

	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
}

// signalName returns the SSH name of sig, or "KILL" for one without a name.
func signalName(sig syscall.Signal) string {
	for name, s := range signals {
		if s == sig {
			return name
		}
	}
	return "KILL"
}

// startSubsystem serves the "sftp" subsystem on ch from the local file
// system.
func (s *Server) startSubsystem(ch ssh.Channel, req *ssh.Request, running *process) {
	var payload struct{ Name string }
	s.mu.Lock()
	disabled := s.noSFTP
	s.mu.Unlock()
	if disabled || running != nil || ssh.Unmarshal(req.Payload, &payload) != nil ||
		payload.Name != "sftp" {
		req.Reply(false, nil)
		return
	}

	server, err := sftp.NewServer(ch)
	if err != nil {
		req.Reply(false, nil)
		return
	}

	req.Reply(true, nil)
	go func() {
		server.Serve()
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
		ch.Close()
	}()
}

// signalProcess forwards a signal request to the running command.
func signalProcess(proc *process, req *ssh.Request) {
	var payload struct{ Signal string }
	if proc == nil || ssh.Unmarshal(req.Payload, &payload) != nil {
		return
	}

	if sig, ok := signals[payload.Signal]; ok {
		proc.signal(sig)
	}
}
