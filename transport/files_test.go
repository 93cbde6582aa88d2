package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testMeta is mode with the current user as owner, which the test server,
// running as that user, can always set.
func testMeta(mode fs.FileMode) FileMeta {
	return FileMeta{Mode: mode, UID: os.Getuid(), GID: os.Getgid()}
}

// fileOps runs the file tests once over the "sftp" subsystem and once over
// sftp-server started through the stand-in sudo.
func fileOps(t *testing.T, test func(t *testing.T, f *fixture, c *Client)) {
	t.Run("subsystem", func(t *testing.T) {
		f := newFixture(t)
		test(t, f, f.dial(t))
	})
	t.Run("sudo", func(t *testing.T) {
		f := newFixture(t)
		f.withFakeSudo(t, "pw")
		f.cfg.BecomePassword = []byte("pw")
		test(t, f, f.dial(t))
	})
}

func TestWriteFileContentAndMode(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		dir := t.TempDir()
		path := filepath.Join(dir, "a", "b", "daemon.json")

		err := c.WriteFile(context.Background(), path, []byte(`{"icc": false}`), testMeta(0o640))
		if err != nil {
			t.Fatalf("WriteFile: %v", err)
		}

		if got := readLocal(t, path); got != `{"icc": false}` {
			t.Errorf("content = %q", got)
		}
		assertMode(t, path, 0o640)
		assertMode(t, filepath.Join(dir, "a"), 0o755|os.ModeDir)
		assertMode(t, filepath.Join(dir, "a", "b"), 0o755|os.ModeDir)
		assertOnlyFile(t, filepath.Dir(path), "daemon.json")
	})
}

func TestWriteFileReplacesTarget(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		path := filepath.Join(t.TempDir(), "config")
		writeLocal(t, path, "old content that is longer than the new one")

		err := c.WriteFile(context.Background(), path, []byte("new"), testMeta(0o4755))
		if err != nil {
			t.Fatalf("WriteFile: %v", err)
		}

		if got := readLocal(t, path); got != "new" {
			t.Errorf("content = %q, want %q", got, "new")
		}
		assertMode(t, path, 0o755|os.ModeSetuid)
		assertOnlyFile(t, filepath.Dir(path), "config")
	})
}

func TestWriteFileEmpty(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "empty")

	if err := c.WriteFile(context.Background(), path, nil, testMeta(0o600)); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	if got := readLocal(t, path); got != "" {
		t.Errorf("content = %q, want empty", got)
	}
}

func TestWriteFileKeepOwner(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "owned")

	meta := FileMeta{Mode: 0o644, UID: KeepID, GID: KeepID}
	if err := c.WriteFile(context.Background(), path, []byte("x"), meta); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	got, err := c.ReadFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta != testMeta(0o644) {
		t.Errorf("meta = %+v, want %+v", got.Meta, testMeta(0o644))
	}
}

func TestWriteFileFailsMidway(t *testing.T) {
	f := newFixture(t)
	// The stand-in sftp-server may write files of at most 8 blocks of 512
	// bytes, so the write below fails after 4 KiB.
	f.withFakeSudo(t, "", "TEST_SFTP_FSIZE_BLOCKS=8")
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "daemon.json")
	writeLocal(t, path, "old")

	err := c.WriteFile(context.Background(), path, bytes.Repeat([]byte("x"), 64<<10),
		testMeta(0o644))

	if err == nil {
		t.Fatal("WriteFile of 64 KiB under a 4 KiB limit succeeded")
	}
	t.Logf("WriteFile error: %v", err)
	wantContains(t, err, "write "+path)
	if got := readLocal(t, path); got != "old" {
		t.Errorf("target = %q after a failed write, want %q", got, "old")
	}
	assertOnlyFile(t, filepath.Dir(path), "daemon.json")
}

func TestWriteFileOverDirectoryFails(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLocal(t, filepath.Join(target, "keep"), "kept")

	err := c.WriteFile(context.Background(), target, []byte("x"), testMeta(0o644))

	wantContains(t, err, "write "+target, "rename")
	if got := readLocal(t, filepath.Join(target, "keep")); got != "kept" {
		t.Errorf("directory content = %q, want %q", got, "kept")
	}
	assertOnlyFile(t, dir, "conf.d")
}

func TestWriteFileInvalidPath(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)

	err := c.WriteFile(context.Background(), t.TempDir()+"/", []byte("x"), testMeta(0o644))

	wantContains(t, err, "invalid file path")
}

func TestReadFileContentAndMeta(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		path := filepath.Join(t.TempDir(), "daemon.json")
		writeLocal(t, path, "content")
		if err := os.Chmod(path, 0o640|os.ModeSticky); err != nil {
			t.Fatal(err)
		}

		got, err := c.ReadFile(context.Background(), path)
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}

		if string(got.Data) != "content" {
			t.Errorf("Data = %q, want %q", got.Data, "content")
		}
		if want := testMeta(0o640 | os.ModeSticky); got.Meta != want {
			t.Errorf("Meta = %+v, want %+v", got.Meta, want)
		}
	})
}

func TestReadFileMissing(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		path := filepath.Join(t.TempDir(), "missing")

		_, err := c.ReadFile(context.Background(), path)

		wantErr(t, err, fs.ErrNotExist)
		wantContains(t, err, "read "+path)
	})
}

// A missing file is a status sent by a live server, so its error must not wait for the
// connection to be found dead. With the wait made an hour long, the read would run into
// the context's deadline instead.
func TestReadFileMissingSkipsLostWait(t *testing.T) {
	old := lostGrace
	lostGrace = time.Hour
	t.Cleanup(func() { lostGrace = old })
	f := newFixture(t)
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, err := c.ReadFile(ctx, filepath.Join(t.TempDir(), "missing"))

	wantErr(t, err, fs.ErrNotExist)
}

func TestReadFileWithBecomeSkipsSudo(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw")
	f.cfg.BecomePassword = []byte("pw")
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "group")
	writeLocal(t, path, "docker:x:999:alice\n")

	got, err := c.ReadFile(context.Background(), path)

	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if string(got.Data) != "docker:x:999:alice\n" {
		t.Errorf("content = %q", got.Data)
	}
	if log := readLocal(t, f.fakeSudoLog); sftpServersStarted(log) != 0 {
		t.Errorf("a readable file was read through sudo; sudo calls:\n%s", log)
	}
}

func TestReadFileWithoutSFTPSubsystemUsesSudo(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw")
	f.cfg.BecomePassword = []byte("pw")
	f.srv.DisableSFTP(true)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "group")
	writeLocal(t, path, "docker:x:999:\n")

	for range 2 {
		got, err := c.ReadFile(context.Background(), path)
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		if string(got.Data) != "docker:x:999:\n" {
			t.Errorf("content = %q", got.Data)
		}
	}
	if log := readLocal(t, f.fakeSudoLog); sftpServersStarted(log) != 1 {
		t.Errorf("want one sftp-server started through sudo, got sudo calls:\n%s", log)
	}
}

// sftpServersStarted counts the sftp-server commands in the fake sudo's log.
func sftpServersStarted(log string) int {
	n := 0
	for line := range strings.Lines(log) {
		if strings.HasSuffix(strings.TrimSpace(line), "/sftp-server") {
			n++
		}
	}
	return n
}

func TestReadFileTooLarge(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "large")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, maxReadFile+1); err != nil {
		t.Fatal(err)
	}

	_, err := c.ReadFile(context.Background(), path)

	wantContains(t, err, "read "+path, fmt.Sprint(maxReadFile+1), "over the limit")
}

func TestReadFileLarge(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "large")
	want := bytes.Repeat([]byte("abcdefgh"), 256<<10)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := c.ReadFile(context.Background(), path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}

	if !bytes.Equal(got.Data, want) {
		t.Errorf("Data has %d bytes, want the %d bytes written", len(got.Data), len(want))
	}
}

func TestReadFileDirectory(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	dir := t.TempDir()

	_, err := c.ReadFile(context.Background(), dir)

	wantContains(t, err, "read "+dir)
}

func TestMkdirAll(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		base := t.TempDir()
		if err := os.Chmod(base, 0o750); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(base, "x", "y")

		if err := c.MkdirAll(context.Background(), path, 0o700); err != nil {
			t.Fatalf("MkdirAll: %v", err)
		}
		if err := c.MkdirAll(context.Background(), path, 0o700); err != nil {
			t.Fatalf("MkdirAll of an existing directory: %v", err)
		}

		assertMode(t, filepath.Join(base, "x"), 0o700|os.ModeDir)
		assertMode(t, path, 0o700|os.ModeDir)
		assertMode(t, base, 0o750|os.ModeDir)
	})
}

func TestMkdirAllOverFile(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	file := filepath.Join(t.TempDir(), "file")
	writeLocal(t, file, "")

	err := c.MkdirAll(context.Background(), filepath.Join(file, "sub"), 0o755)

	wantContains(t, err, "mkdir "+filepath.Join(file, "sub"), "not a directory")
}

func TestRemove(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		path := filepath.Join(t.TempDir(), "gone")
		writeLocal(t, path, "x")

		if err := c.Remove(context.Background(), path); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file still there after Remove: stat error %v", err)
		}

		err := c.Remove(context.Background(), path)
		wantErr(t, err, fs.ErrNotExist)
	})
}

func TestFileOpCanceledThenReused(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "after-cancel")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := c.WriteFile(ctx, path, []byte("x"), testMeta(0o644))
	wantErr(t, err, context.Canceled)

	if err := c.WriteFile(context.Background(), path, []byte("y"), testMeta(0o644)); err != nil {
		t.Fatalf("WriteFile after a canceled one: %v", err)
	}
	if got := readLocal(t, path); got != "y" {
		t.Errorf("content = %q, want %q", got, "y")
	}
}

func TestFileOpCanceledMidway(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "big")
	writeLocal(t, path, "old")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := c.WriteFile(ctx, path, bytes.Repeat([]byte("z"), 64<<20), testMeta(0o644))

	wantErr(t, err, context.DeadlineExceeded)
	if got := readLocal(t, path); got != "old" {
		t.Errorf("target changed to %d bytes by a canceled write", len(got))
	}
	if _, err := c.ReadFile(context.Background(), path); err != nil {
		t.Errorf("ReadFile after a canceled write: %v", err)
	}
}

func TestConcurrentRunAndFileOps(t *testing.T) {
	fileOps(t, func(t *testing.T, f *fixture, c *Client) {
		dir := t.TempDir()
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				exerciseClient(t, c, filepath.Join(dir, fmt.Sprintf("f%d", i)), i)
			}()
		}
		wg.Wait()

		if n := f.srv.Connections(); n != 1 {
			t.Errorf("server accepted %d connections, want 1", n)
		}
	})
}

// exerciseClient runs a command and writes, reads and removes path.
func exerciseClient(t *testing.T, c *Client, path string, i int) {
	ctx := context.Background()
	want := strings.Repeat(fmt.Sprint(i), 1000+i)

	res, err := c.Run(ctx, "cat", []byte(want))
	if err != nil || string(res.Stdout) != want {
		t.Errorf("Run cat: %v, %d bytes", err, len(res.Stdout))
	}

	if err := c.WriteFile(ctx, path, []byte(want), testMeta(0o600)); err != nil {
		t.Errorf("WriteFile: %v", err)
		return
	}

	got, err := c.ReadFile(ctx, path)
	if err != nil || string(got.Data) != want {
		t.Errorf("ReadFile: %v", err)
	}

	if err := c.Remove(ctx, path); err != nil {
		t.Errorf("Remove: %v", err)
	}
}

// assertOnlyFile fails the test unless dir contains exactly name, which
// shows that no temporary file was left behind.
func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Errorf("%s contains %q, want only %q", dir, names, name)
	}
}
