package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// rootShell is a root shell that lives as long as the connection and runs
// the commands of Run one after another. Dial starts it once through sudo.
// Each sudo costs the host a PAM session and a journal entry, about 10 ms of
// CPU as measured on the lab hosts. One shell per connection pays that once
// per host instead of once per command.
//
// The client writes each command to the shell's standard input as one line
// that evaluates the quoted script in a subshell and then prints a marker
// with a random nonce on stderr and, with the exit status, on stdout. The
// client copies both streams up to their markers. A nonce is never reused,
// and the command cannot know it, so no output can end a command early.
//
// The shell also holds the host lock, when Lock takes it, on a file
// descriptor that commands do not inherit.
type rootShell struct {
	sess   *ssh.Session
	stdout *bufio.Reader
	stderr *bufio.Reader

	writeMu sync.Mutex // serializes writes to stdin
	stdin   io.WriteCloser

	// busy is held from writing a command until both of its markers are
	// read, so commands never overlap on the streams.
	busy sync.Mutex

	// unusable is the reason the shell runs no more commands: a cancelled
	// command, whose output may still arrive, stray output, or failed
	// streams. The lock stays held until unlock or the end of the connection.
	unusable atomic.Pointer[error]
	lockHeld atomic.Bool // the shell, or its holder process, holds the host lock
	holder   atomic.Bool // a holder process, which outlives the shell, holds it
}

// Markers of the shell's start.
const (
	// markShellReady is the line the start script prints once sudo let it run.
	markShellReady = "fleetharden-root-shell-ready"
	// becomePrompt is the password prompt that sudo -S writes to stderr.
	becomePrompt = "[fleetharden] sudo password: "
)

// becomePromptArg is the prompt passed to sudo. Tests change it to stand
// for a sudo that ignores it.
var becomePromptArg = becomePrompt

// shellStartTimeout bounds the start of the root shell, unless the connect
// timeout is longer. sudo takes well under a second, and a rejected password
// adds PAM's delay of a few seconds. Tests shorten it.
var shellStartTimeout = 30 * time.Second

// errShellEnded is wrapped when the shell's streams end.
var errShellEnded = errors.New("the root shell on the host ended")

// shellStartScript returns the script that sudo runs first. It finds
// sftp-server for the file operations and prints the ready line on both
// streams, which ends sudo's own output. Then it replaces itself with a shell
// that reads its commands from standard input.
func shellStartScript() string {
	var b strings.Builder
	b.WriteString("for p in")
	for _, path := range sftpServerPaths {
		b.WriteString(" " + shellQuote(path))
	}
	b.WriteString(`; do if [ -x "$p" ]; then echo "` + markSFTPServer + `$p"; break; fi; done; `)
	b.WriteString("echo " + markShellReady + "; echo " + markShellReady + " >&2; exec sh")
	return withCLocale(b.String())
}

// shellPrelude is the first text the shell reads. The TERM trap is how Run
// cancels a command: sshd passes the signal to sudo, sudo to the shell,
// which kills the running command with the processes it started and survives
// to keep the lock. SIGCONT delivers the SIGTERM to a command that stopped
// itself. fh_tree prints a process and its descendants. It reads the parent
// of each process in /proc until no new one turns up, so it misses a process
// that left its parent, as a daemon does.
const shellPrelude = `fh_tree() { fh_t=" $1 "; fh_more=1; ` +
	`while [ -n "$fh_more" ]; do fh_more=; ` +
	`for fh_d in /proc/[0-9]*; do fh_n=${fh_d#/proc/}; ` +
	`case $fh_t in *" $fh_n "*) continue ;; esac; ` +
	`{ read -r fh_st <"$fh_d/stat"; } 2>/dev/null || continue; set -- ${fh_st##*) }; ` +
	`case $fh_t in *" $2 "*) fh_t="$fh_t$fh_n "; fh_more=1 ;; esac; done; done; ` +
	`echo $fh_t; }` + "\n" +
	`trap 'fh_k=$(fh_tree "$fh_c"); kill -TERM $fh_k 2>/dev/null; kill -CONT $fh_k 2>/dev/null' TERM` +
	"\n"

// shellWait waits for the command started in the background as $fh_c and
// leaves its status in $fh_s. A TERM trap ends the wait at once, so a
// command that outlives the signal cannot keep the shell, or the lock it
// holds, from the release that follows. The shell's own variables start
// with fh_, which the scripts it runs do not use.
const shellWait = `fh_c=$!; wait "$fh_c"; fh_s=$?`

// startShell starts the root shell through sudo. With a password, it sends
// the password only when sudo prompts for it, so no line that sudo does not
// read reaches the shell, and it learns whether sudo needs a password at
// all. It sets c.become on success.
func (c *Client) startShell(ctx context.Context, password []byte) error {
	b := &become{}
	if password != nil {
		b.password = bytes.Clone(password)
	}

	sess, err := await(ctx, c.conn.NewSession, closeSession)
	if err != nil {
		return c.failure(ctx, "start a root shell", fmt.Errorf("open session: %w", err))
	}
	s, err := newRootShell(sess)
	if err != nil {
		sess.Close()
		return c.failure(ctx, "start a root shell", err)
	}

	line := "sudo -n -- sh -c " + shellQuote(shellStartScript())
	if password != nil {
		line = "sudo -k -S -p " + shellQuote(becomePromptArg) + " -- sh -c " + shellQuote(shellStartScript())
	}
	if err := sess.Start(line); err != nil {
		sess.Close()
		return c.failure(ctx, "start a root shell", err)
	}

	type started struct {
		sftpServer string
		prompted   bool
		stderr     []byte
		err        error
	}
	done := make(chan started, 1)
	go func() {
		var out started
		errc := make(chan error, 1)
		go func() {
			var err error
			out.prompted, out.stderr, err = s.answerPrompt(password)
			errc <- err
		}()
		out.sftpServer, out.err = s.readReady()
		if err := <-errc; out.err == nil {
			out.err = err
		}
		done <- out
	}()

	timeout := max(c.connectTimeout, shellStartTimeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var out started
	select {
	case <-ctx.Done():
		sess.Close()
		return contextError(ctx, "start a root shell")
	case <-timer.C:
		sess.Close()
		return fmt.Errorf("become root as %s on %s: %w: sudo started no shell within %v: "+
			"it may wait for a slow authentication service, or for a password at a prompt "+
			"of its own (passprompt_override in sudoers), which fleetharden does not answer",
			c.user, c.name, ErrBecome, timeout)
	case out = <-done:
	}

	if out.err != nil {
		rejected := errors.Is(out.err, errShellEnded) && exitedWithStatus(sess)
		sess.Close()
		if rejected {
			return c.becomeError(password, out.stderr)
		}
		return c.failure(ctx, "start a root shell", out.err)
	}

	if err := s.write([]byte(shellPrelude)); err != nil {
		sess.Close()
		return c.failure(ctx, "start a root shell", err)
	}

	b.sftpServer = out.sftpServer
	if !out.prompted {
		// sudo let the shell in without asking, so later sudo commands must
		// not send a password line that sudo would leave on their input.
		b.password = nil
	}
	c.become = b
	c.shell = s
	return nil
}

// exitedWithStatus reports whether the command of sess exited with a status,
// as sudo does when it refuses, rather than the channel failing. It waits a
// moment for the status to arrive after the streams ended.
func exitedWithStatus(sess *ssh.Session) bool {
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()

	select {
	case err := <-waited:
		var exit *ssh.ExitError
		return errors.As(err, &exit)
	case <-time.After(sftpStartGrace):
		return false
	}
}

// newRootShell wires up the streams of sess.
func newRootShell(sess *ssh.Session) (*rootShell, error) {
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		return nil, err
	}

	return &rootShell{
		sess:   sess,
		stdin:  stdin,
		stdout: bufio.NewReaderSize(stdout, 16<<10),
		stderr: bufio.NewReader(stderr),
	}, nil
}

// readReady reads the start script's stdout up to its ready line and
// returns the sftp-server path it found.
func (s *rootShell) readReady() (string, error) {
	var sftpServer string
	for {
		line, err := s.stdout.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%w before it started: %v", errShellEnded, err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == markShellReady:
			return sftpServer, nil
		case strings.HasPrefix(line, markSFTPServer):
			sftpServer = strings.TrimPrefix(line, markSFTPServer)
		}
	}
}

// answerPrompt reads stderr until the start script's ready line, and writes
// the password when sudo prompts for it the first time. A second prompt
// means that sudo rejected the password, so it closes stdin and sudo exits.
// It returns whether sudo prompted, and the rest of sudo's stderr for an
// error message.
func (s *rootShell) answerPrompt(password []byte) (bool, []byte, error) {
	var text []byte
	prompts := 0
	buf := make([]byte, 4096)
	for {
		n, err := s.stderr.Read(buf)
		text = append(text, buf[:n]...)

		if i := bytes.Index(text, []byte(markShellReady+"\n")); i >= 0 {
			return prompts > 0, text[:i], nil
		}
		for bytes.Contains(text, []byte(becomePrompt)) {
			text = bytes.Replace(text, []byte(becomePrompt), nil, 1)
			prompts++
			if prompts == 1 && password != nil {
				if werr := s.write((&become{password: password}).passwordLine()); werr != nil {
					return true, text, werr
				}
				continue
			}
			s.stdin.Close()
		}
		if len(text) > 64<<10 {
			text = text[len(text)-64<<10:]
		}

		if err != nil {
			return prompts > 0, text, fmt.Errorf("%w before it started: %v", errShellEnded, err)
		}
	}
}

// write writes p to the shell's standard input.
func (s *rootShell) write(p []byte) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.stdin.Write(p); err != nil {
		return fmt.Errorf("write to the root shell: %w", err)
	}
	return nil
}

// run runs script with sh -c as a child of the root shell, with no standard
// input, so that $$, exit and exec act as they do in a shell of its own.
// It returns false, having done nothing, when another command is running or
// the shell is unusable. The caller then runs the command on a session of
// its own.
func (s *rootShell) run(ctx context.Context, script string) (Result, error, bool) {
	if !s.busy.TryLock() {
		return Result{}, nil, false
	}
	if s.unusable.Load() != nil {
		s.busy.Unlock()
		return Result{}, nil, false
	}

	nonce := newNonce()
	line := startMarkers(nonce) + "sh -c " + shellQuote(script) + " </dev/null 9>&- & " +
		shellWait + "; " + s.markers(nonce)
	return s.exchange(ctx, nonce, line)
}

// startSuffix ends the nonce in the line that starts a command's output.
const startSuffix = "-start\n"

// startMarkers returns the commands that start a command's output: the nonce
// and startSuffix on stdout and on stderr. What comes before them is output
// of an earlier command's background process, which the shell cannot stop.
func startMarkers(nonce string) string {
	return "printf '%s\\n' " + nonce + "-start; printf '%s\\n' " + nonce + "-start >&2; "
}

// markers returns the commands that end a command's output: the nonce on
// stderr, then the nonce and $fh_s on stdout.
func (s *rootShell) markers(nonce string) string {
	return "printf '%s\\n' " + nonce + " >&2; printf '%s %s\\n' " + nonce + ` "$fh_s"` + "\n"
}

// exchange writes line and reads the output of its command. The caller
// holds busy, which exchange releases once the markers are read. When ctx
// ends first, it signals the shell to kill the command and returns the
// context error, and the shell runs no more commands.
func (s *rootShell) exchange(ctx context.Context, nonce, line string) (Result, error, bool) {
	if err := s.write([]byte(line)); err != nil {
		s.markUnusable(err)
		s.busy.Unlock()
		return Result{}, err, true
	}

	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer s.busy.Unlock()
		res, err := s.read(nonce)
		if err != nil {
			s.markUnusable(err)
		}
		done <- outcome{res, err}
	}()

	select {
	case out := <-done:
		return out.res, out.err, true
	case <-ctx.Done():
		s.markUnusable(errors.New("a cancelled command may still be running in it"))
		s.sess.Signal(ssh.SIGTERM)
		return Result{}, ctx.Err(), true
	}
}

// read copies the command's stdout and stderr up to their markers and
// returns its result.
func (s *rootShell) read(nonce string) (Result, error) {
	stdout, stderr := newCappedBuffer(maxOutput), newCappedBuffer(maxOutput)
	start, marker := []byte(nonce+startSuffix), []byte(nonce)
	var strayOut, strayErr countingWriter

	errc := make(chan error, 1)
	go func() {
		err := copyUntil(s.stderr, &strayErr, start)
		if err == nil {
			err = copyUntil(s.stderr, stderr, marker)
		}
		if err == nil {
			_, err = s.stderr.ReadString('\n')
		}
		errc <- err
	}()

	err := copyUntil(s.stdout, &strayOut, start)
	if err == nil {
		err = copyUntil(s.stdout, stdout, marker)
	}
	var status string
	if err == nil {
		status, err = s.stdout.ReadString('\n')
	}
	if serr := <-errc; err == nil {
		err = serr
	}
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", errShellEnded, err)
	}
	if strayOut > 0 || strayErr > 0 {
		// A background process of an earlier command still writes to the
		// shell's streams, so later commands get sessions of their own.
		// NOTE: what it wrote during this command is in this command's output.
		s.markUnusable(errors.New("a background process of an earlier command writes to it"))
	}

	code, err := strconv.Atoi(strings.TrimSpace(status))
	if err != nil {
		return Result{}, fmt.Errorf("read the exit status from the root shell: %q", status)
	}
	return Result{
		Stdout:    stdout.Bytes(),
		Stderr:    stderr.Bytes(),
		ExitCode:  code,
		Truncated: stdout.Truncated() || stderr.Truncated(),
	}, nil
}

// markUnusable records why the shell takes no more commands. The first
// reason is kept.
func (s *rootShell) markUnusable(err error) {
	s.unusable.CompareAndSwap(nil, &err)
}

// lock takes the host lock for the shell. A holder process that the shell
// starts keeps the lock's descriptor, and ends, releasing the lock, on unlock
// or within two seconds of the end of the connection's sshd process. So the
// lock of a killed run goes away even while a command of that run still
// runs, and a command that kills the shell does not take the lock with it.
// See Client.Lock.
//
// NOTE: where no sshd process is found among the shell's ancestors, as when
// the login shell does not exec sudo, the shell holds the lock itself. Then a
// command that hangs when the connection ends keeps the lock until it ends.
func (s *rootShell) lock(ctx context.Context, path, owner string, wait time.Duration) error {
	s.busy.Lock()
	if err := s.unusable.Load(); err != nil {
		s.busy.Unlock()
		return *err
	}

	secs := max(int(wait.Round(time.Second).Seconds()), 1)
	nonce := newNonce()
	q := shellQuote(path)
	// The umask applies to the lock file and its owner file only; "command"
	// keeps a failed redirection from ending the shell.
	line := startMarkers(nonce) + fmt.Sprintf("fh_u=$(umask); umask 077; if command exec 9>>%[1]s; then "+
		"flock -w %[2]d -E %[3]d 9 </dev/null & "+shellWait+"; "+
		"if [ $fh_s -eq 0 ]; then printf '%%s\\n' %[4]s >%[1]s.owner; "+lockHolder+
		"else cat %[1]s.owner >&2 2>/dev/null; exec 9>&-; fi; else fh_s=1; fi; umask \"$fh_u\"; ",
		q, secs, lockBusyStatus, shellQuote(owner)) + s.markers(nonce)

	res, err, _ := s.exchange(ctx, nonce, line)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return lockFailure(res.ExitCode, res.Stderr)
	}
	s.lockHeld.Store(true)
	s.holder.Store(strings.Contains(string(res.Stdout), markLockHolder))
	return nil
}

// markLockHolder is the line the lock command prints when a holder process
// keeps the lock.
const markLockHolder = "fleetharden-lock-holder"

// lockHolder finds the sshd process among the shell's ancestors, reading
// /proc with the shell's read builtin, and starts the holder process that
// watches it. Its sleep does not inherit the descriptor, so killing the
// holder releases the lock at once.
const lockHolder = `fh_w=$PPID; fh_n=; ` +
	`while [ "$fh_w" -gt 1 ] 2>/dev/null; do ` +
	`{ read -r fh_n <"/proc/$fh_w/comm"; } 2>/dev/null || break; ` +
	`[ "$fh_n" = sshd ] && break; ` +
	`{ read -r fh_st <"/proc/$fh_w/stat"; } 2>/dev/null || break; ` +
	`set -- ${fh_st##*) }; fh_w=$2; done; ` +
	`if [ "$fh_n" = sshd ]; then ` +
	`{ while kill -0 "$fh_w" 2>/dev/null; do sleep 2 9>&-; done; } </dev/null >/dev/null 2>&1 & ` +
	`fh_h=$!; exec 9>&-; echo ` + markLockHolder + `; fi; `

// unlock releases the host lock. It does not wait for the shell, which
// closes a descriptor it holds itself only after any command still running
// in it.
func (s *rootShell) unlock() {
	s.write([]byte(`[ -n "$fh_h" ] && kill "$fh_h" 2>/dev/null; fh_h=; exec 9>&-` + "\n"))
	s.lockHeld.Store(false)
}

// copyUntil copies r to w up to the first occurrence of marker, which it
// consumes.
func copyUntil(r *bufio.Reader, w io.Writer, marker []byte) error {
	for {
		n := max(r.Buffered(), 1)
		buf, err := r.Peek(n)
		if i := bytes.Index(buf, marker); i >= 0 {
			w.Write(buf[:i])
			_, err := r.Discard(i + len(marker))
			return err
		}
		if err != nil && len(buf) < n {
			return err
		}

		// Keep a tail that may be the start of the marker.
		if safe := len(buf) - (len(marker) - 1); safe > 0 {
			w.Write(buf[:safe])
			r.Discard(safe)
			continue
		}
		// Too little buffered to hold the marker: wait for more.
		if _, err := r.Peek(len(buf) + 1); err != nil && r.Buffered() == len(buf) {
			return err
		}
	}
}

// countingWriter counts and drops what is written to it.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// newNonce returns 128 random bits in hex.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
