package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/pkg/sftp"
)

// maxReadFile is the largest file ReadFile returns. The files fleetharden
// manages are configuration files, far below it.
const maxReadFile = 16 << 20

// KeepID as FileMeta.UID or FileMeta.GID leaves the owner or group as the
// SFTP server creates it: the login user, or root with Become.
const KeepID = -1

// File is the content and metadata of a remote file.
type File struct {
	Data []byte
	Meta FileMeta
}

// FileMeta is the permission bits and ownership of a remote file.
type FileMeta struct {
	Mode fs.FileMode // permission bits, with setuid, setgid and sticky
	UID  int         // owner, or KeepID
	GID  int         // group, or KeepID
}

// ReadFile returns the content and metadata of the file at path. A missing
// file is an error that matches fs.ErrNotExist, and a file over 16 MiB is an
// error.
//
// With Become, the file is read as the login user first, because each sudo
// costs the host about 10 ms of CPU and most files fleetharden reads, such
// as /etc/group, are world-readable. Only a file that the login user cannot
// read is read again as root.
func (c *Client) ReadFile(ctx context.Context, path string) (*File, error) {
	op := "read " + path
	read := func(s *sftp.Client) (*File, error) { return readFile(s, path) }
	if c.become != nil && !c.loginSFTPUnavailable() {
		f, err := withSFTPOn(ctx, c, &c.loginSFTP, op, read)
		switch {
		case err == nil, errors.Is(err, fs.ErrNotExist):
			// A missing path is missing for root too: the login user could search
			// every directory above it, or the error would be a permission error.
			return f, err
		case ctx.Err() != nil, errors.Is(err, ErrUnreachable):
			return nil, err
		}
	}
	return withSFTP(ctx, c, op, read)
}

// WriteFile replaces the file at path with data, owned and with the mode
// that meta gives, so that readers see either the old or the new file and
// never a part. Missing parent directories are created with mode 0755.
//
// The data goes to a temporary file in the same directory, created with
// mode 0600 before any byte is written and named ".<name>.fleetharden-<hex>".
// It is synced to disk when the server supports fsync@openssh.com, given its
// owner and mode, and renamed over path with posix-rename@openssh.com. On
// error the temporary file is removed and path is left as it was. A
// symbolic link at path is replaced, not followed.
func (c *Client) WriteFile(ctx context.Context, path string, data []byte, meta FileMeta) error {
	_, err := withSFTP(ctx, c, "write "+path, func(s *sftp.Client) (struct{}, error) {
		return struct{}{}, writeFile(s, path, data, meta)
	})
	return err
}

// Remove removes the file or empty directory at path. A missing path is an
// error that matches fs.ErrNotExist.
func (c *Client) Remove(ctx context.Context, path string) error {
	_, err := withSFTP(ctx, c, "remove "+path, func(s *sftp.Client) (struct{}, error) {
		return struct{}{}, s.Remove(path)
	})
	return err
}

// MkdirAll creates the directory at path and any missing parents, each with
// mode, and does nothing when path is already a directory. Existing
// directories keep their mode.
func (c *Client) MkdirAll(ctx context.Context, path string, mode fs.FileMode) error {
	_, err := withSFTP(ctx, c, "mkdir "+path, func(s *sftp.Client) (struct{}, error) {
		return struct{}{}, mkdirAll(s, path, mode)
	})
	return err
}

// readFile reads the file at name with its metadata.
func readFile(s *sftp.Client, name string) (*File, error) {
	f, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("is a directory: %w", syscall.EISDIR)
	}
	if info.Size() > maxReadFile {
		return nil, fmt.Errorf("file is %d bytes, over the limit of %d", info.Size(), maxReadFile)
	}

	var buf bytes.Buffer
	buf.Grow(int(info.Size()) + bytes.MinRead)
	n, err := buf.ReadFrom(io.LimitReader(f, maxReadFile+1))
	if err != nil {
		return nil, err
	}
	if n > maxReadFile {
		return nil, fmt.Errorf("file grew over the limit of %d bytes while read", maxReadFile)
	}

	return &File{Data: buf.Bytes(), Meta: metaOf(info)}, nil
}

// metaOf returns the permission bits and ownership from an SFTP stat.
func metaOf(info fs.FileInfo) FileMeta {
	meta := FileMeta{
		Mode: info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
		UID:  KeepID,
		GID:  KeepID,
	}

	if st, ok := info.Sys().(*sftp.FileStat); ok {
		meta.UID, meta.GID = int(st.UID), int(st.GID)
	}
	return meta
}

// writeFile replaces target atomically, as WriteFile describes.
func writeFile(s *sftp.Client, target string, data []byte, meta FileMeta) error {
	tmp, err := tempName(target)
	if err != nil {
		return err
	}

	f, err := createTemp(s, tmp)
	if err != nil {
		return explainFailure(s, tmp, len(data), err)
	}

	if err := fillTemp(s, f, data, meta); err != nil {
		f.Close()
		err = explainFailure(s, tmp, len(data), err)
		s.Remove(tmp)
		return err
	}

	if err := s.PosixRename(tmp, target); err != nil {
		s.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}

	return nil
}

// explainFailure adds the cause to an error that the server reported with the bare
// SSH_FX_FAILURE status while the file system holding name is full. OpenSSH's sftp-server
// reports ENOSPC with that status, because version 3 of the SFTP protocol has no code for
// it, so the free space is read with statvfs@openssh.com. Other errors are returned as
// they are.
func explainFailure(s *sftp.Client, name string, size int, err error) error {
	var status *sftp.StatusError
	if !errors.As(err, &status) || status.FxCode() != sftp.ErrSSHFxFailure {
		return err
	}
	if _, ok := s.HasExtension("statvfs@openssh.com"); !ok {
		return err
	}

	vfs, statErr := s.StatVFS(path.Dir(name))
	if statErr != nil {
		return err
	}
	free := vfs.Bavail * vfs.Frsize
	if free >= uint64(size)+vfs.Frsize && vfs.Favail > 0 {
		return err
	}
	return fmt.Errorf("%w: %d bytes and %d inodes free in %s for %d bytes: %w",
		syscall.ENOSPC, free, vfs.Favail, path.Dir(name), size, err)
}

// tempName returns a fresh name for the temporary file of target.
func tempName(target string) (string, error) {
	dir, name := path.Split(target)
	if name == "" || name == "." || name == ".." {
		return "", fmt.Errorf("invalid file path %q", target)
	}

	suffix := make([]byte, 8)
	rand.Read(suffix)
	return dir + "." + name + ".fleetharden-" + hex.EncodeToString(suffix), nil
}

// createTemp creates tmp exclusively, creating its directory when missing.
func createTemp(s *sftp.Client, tmp string) (*sftp.File, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := s.OpenFile(tmp, flags)
	if errors.Is(err, fs.ErrNotExist) {
		if err := mkdirAll(s, path.Dir(tmp), 0o755); err != nil {
			return nil, fmt.Errorf("create parent directory: %w", err)
		}
		f, err = s.OpenFile(tmp, flags)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}

	return f, nil
}

// fillTemp writes data to f, syncs it and sets its owner and mode. The owner
// is set before the mode because chown clears the setuid and setgid bits.
func fillTemp(s *sftp.Client, f *sftp.File, data []byte, meta FileMeta) error {
	// The server creates the file with mode 0666 less its umask, so narrow it
	// before the data arrives.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}

	if len(data) > 0 {
		if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}

	if err := syncFile(s, f); err != nil {
		return err
	}

	if meta.UID != KeepID || meta.GID != KeepID {
		if err := f.Chown(meta.UID, meta.GID); err != nil {
			return fmt.Errorf("chown %s to %d:%d: %w", f.Name(), meta.UID, meta.GID, err)
		}
	}

	if err := f.Chmod(meta.Mode); err != nil {
		return fmt.Errorf("chmod %s to %#o: %w", f.Name(), meta.Mode, err)
	}

	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return nil
}

// syncFile flushes f to disk when the server supports fsync@openssh.com.
// Servers without it, such as some embedded ones, get no sync.
func syncFile(s *sftp.Client, f *sftp.File) error {
	if _, ok := s.HasExtension("fsync@openssh.com"); !ok {
		return nil
	}

	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}

// mkdirAll creates dir and its missing parents, each with mode. SFTP mkdir
// applies the server's umask, so each new directory gets an explicit chmod.
func mkdirAll(s *sftp.Client, dir string, mode fs.FileMode) error {
	info, err := s.Stat(dir)
	if err == nil {
		if !info.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", dir, err)
	}

	if parent := path.Dir(dir); parent != dir {
		if err := mkdirAll(s, parent, mode); err != nil {
			return err
		}
	}

	if err := s.Mkdir(dir); err != nil {
		// Another writer may have created it in the meantime.
		if info, statErr := s.Stat(dir); statErr == nil && info.IsDir() {
			return nil
		}
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}

	if err := s.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}
