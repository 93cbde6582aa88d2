package transport

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// windowsAgentPipe is the named pipe of the OpenSSH agent service that
// Windows 10 and later ship.
const windowsAgentPipe = `\\.\pipe\openssh-ssh-agent`

// agentDialTimeout bounds connecting to ssh-agent.
const agentDialTimeout = 5 * time.Second

// agentAddress returns the network ("unix" or "pipe") and address of the
// ssh-agent to use on the operating system goos, given the value of
// SSH_AUTH_SOCK. On Linux and macOS that is the socket SSH_AUTH_SOCK names.
// On Windows an empty SSH_AUTH_SOCK means the OpenSSH agent's named pipe, and
// a value that names a pipe is a pipe. An empty address means no agent.
func agentAddress(goos, socket string) (network, address string) {
	switch {
	case goos == "windows" && socket == "":
		return "pipe", windowsAgentPipe
	case goos == "windows" && isPipePath(socket):
		return "pipe", socket
	case socket == "":
		return "", ""
	default:
		return "unix", socket
	}
}

// isPipePath reports whether path names a Windows named pipe, such as
// \\.\pipe\openssh-ssh-agent; forward slashes count as well.
func isPipePath(path string) bool {
	p := strings.ToLower(strings.ReplaceAll(path, "/", `\`))
	return strings.HasPrefix(p, `\\.\pipe\`)
}

// dialAgent connects to ssh-agent at address on network.
func dialAgent(network, address string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), agentDialTimeout)
	defer cancel()

	if network == "pipe" {
		return dialPipe(ctx, address)
	}

	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("connect to ssh-agent: %w", err)
	}
	return conn, nil
}
