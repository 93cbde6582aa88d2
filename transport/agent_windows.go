package transport

import (
	"context"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
)

// dialPipe connects to the named pipe at path.
func dialPipe(ctx context.Context, path string) (net.Conn, error) {
	conn, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("connect to ssh-agent pipe %s: %w", path, err)
	}
	return conn, nil
}
