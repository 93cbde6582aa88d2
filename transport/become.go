package transport

import (
	"fmt"
	"strings"
)

// sftpServerPaths lists the install paths of OpenSSH's sftp-server on Linux
// distributions: Debian and Ubuntu, Fedora and RHEL, Arch, and older
// layouts. Tests prepend a stand-in.
var sftpServerPaths = []string{
	"/usr/lib/openssh/sftp-server",
	"/usr/libexec/openssh/sftp-server",
	"/usr/lib/ssh/sftp-server",
	"/usr/libexec/sftp-server",
}

// become is the sudo setup of a Client, found when its root shell started.
type become struct {
	password   []byte // nil when sudo needs none
	sftpServer string // "" when none of sftpServerPaths is executable
}

// sudo returns the line that runs command as root, and the password line to
// write to its standard input first, if any. The password goes only to
// sudo's standard input, where -S reads it, and an empty -p prompt keeps
// stderr clean. The -k option makes sudo read the password every time, so a
// cached credential cannot leave the password line on the command's input.
func (b *become) sudo(command string) (string, []byte) {
	if b.password == nil {
		return "sudo -n -- " + command, nil
	}

	return "sudo -k -S -p '' -- " + command, b.passwordLine()
}

// passwordLine returns a fresh copy of the password followed by a newline.
func (b *become) passwordLine() []byte {
	line := make([]byte, 0, len(b.password)+1)
	line = append(line, b.password...)
	return append(line, '\n')
}

// markSFTPServer starts the line on which the root shell's start script
// reports the path of sftp-server.
const markSFTPServer = "sftp-server "

// becomeError explains why sudo rejected the login user or the password.
func (c *Client) becomeError(password, stderr []byte) error {
	op := fmt.Sprintf("become root as %s on %s", c.user, c.name)
	detail := remoteMessage(stderr, password)
	if detail == "" {
		detail = "no output"
	}

	if password == nil {
		return fmt.Errorf("%s: %w: sudo requires a password or rejected the user (%s); "+
			"if it needs a password, rerun with --ask-become-pass or --become-pass-file",
			op, ErrBecome, detail)
	}

	if strings.Contains(detail, "not in the sudoers") || strings.Contains(detail, "not allowed") {
		return fmt.Errorf("%s: %w: sudo rejected the user (%s)", op, ErrBecome, detail)
	}

	return fmt.Errorf("%s: %w: sudo: incorrect password (%s)", op, ErrBecome, detail)
}

// remoteMessage joins the non-blank lines of a remote stderr into one line
// for an error message. The password is masked in case sudo or a PAM module
// echoed it.
func remoteMessage(stderr, password []byte) string {
	var lines []string
	for line := range strings.Lines(string(stderr)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}

	message := strings.Join(lines, "; ")
	if len(password) > 0 {
		message = strings.ReplaceAll(message, string(password), "********")
	}
	return message
}
