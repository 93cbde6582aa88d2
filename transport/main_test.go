package transport

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
)

// sftpServerEnv makes the test binary serve SFTP on its standard input and
// output instead of running tests. The stand-in sftp-server execs it.
const sftpServerEnv = "TRANSPORT_TEST_SFTP_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(sftpServerEnv) == "1" {
		os.Exit(serveSFTPOnStdio())
	}

	dir, err := installSFTPServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// installSFTPServer writes a stand-in sftp-server that runs this test binary
// as an SFTP server, and puts it first in sftpServerPaths. The stand-in
// applies the file size limit in TEST_SFTP_FSIZE_BLOCKS (512-byte blocks),
// so tests can make writes fail midway.
func installSFTPServer() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find test binary: %w", err)
	}

	dir, err := os.MkdirTemp("", "transport-test-")
	if err != nil {
		return "", fmt.Errorf("create stand-in directory: %w", err)
	}

	script := "#!/bin/sh\n" +
		"if [ -n \"$TEST_SFTP_FSIZE_BLOCKS\" ]; then ulimit -f \"$TEST_SFTP_FSIZE_BLOCKS\"; fi\n" +
		sftpServerEnv + "=1 exec " + shellQuote(self) + "\n"
	path := filepath.Join(dir, "sftp-server")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("write stand-in sftp-server: %w", err)
	}

	sftpServerPaths = append([]string{path}, sftpServerPaths...)
	return dir, nil
}

// stdio joins standard input and output into the ReadWriteCloser that an
// SFTP server needs.
type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdout.Close() }

// serveSFTPOnStdio serves SFTP until standard input ends and returns the
// exit code.
func serveSFTPOnStdio() int {
	server, err := sftp.NewServer(stdio{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start sftp server:", err)
		return 1
	}

	if err := server.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "serve sftp:", err)
		return 1
	}
	return 0
}
