// Package inputfile reads the files an operator names on the command line, such as
// inventories and playbooks, refusing what is not a regular file of a sane size.
package inputfile

import (
	"fmt"
	"io"
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
		return nil, fmt.Errorf("%s is not a regular file (%s): name a file", path, info.Mode().Type())
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
