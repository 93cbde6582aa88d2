// Package inputfile reads the files an operator names on the command line, such as
// inventories and playbooks, refusing what is not a regular file of a sane size.
package inputfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxSize is the largest input file read, far above any real inventory or playbook.
const MaxSize = 32 << 20

// Read returns the content of the regular file at path. A device, FIFO or directory is
// rejected before it is opened, since reading /dev/zero never ends and opening a FIFO
// blocks until a writer comes.
func Read(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file: name a file", path,
			describeType(info.Mode()))
	}
	if info.Size() > MaxSize {
		return nil, fmt.Errorf("%s is %d MiB, more than the %d MiB limit", path,
			info.Size()>>20, MaxSize>>20)
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s grew past the %d MiB limit while being read", path, MaxSize>>20)
	}
	return data, nil
}

// describeType names the type of a file that is not a regular file.
func describeType(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	default:
		return "a special file"
	}
}
