//go:build !windows

package transport

import (
	"context"
	"fmt"
	"net"
)

// dialPipe fails: named pipes exist on Windows only.
func dialPipe(_ context.Context, path string) (net.Conn, error) {
	return nil, fmt.Errorf("connect to ssh-agent pipe %s: named pipes exist on Windows only",
		path)
}
