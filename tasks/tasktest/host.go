// Package tasktest provides an in-memory host for testing task kinds without SSH.
package tasktest

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/fleetharden/fleetharden/transport"
)

// Responder produces the result of a command the fake host was asked to run.
type Responder func(cmd string, stdin []byte) transport.Result

// Host is a fake host: a map of files and a list of command responders matched by prefix.
// It records every command it runs and every file it writes.
type Host struct {
	mu       sync.Mutex
	Files    map[string]*transport.File
	handlers []handler
	Commands []string // every command run, in order
	Writes   []string // every path written, in order
	// WriteErr, when set, is returned by WriteFile for the paths it returns non-nil for.
	WriteErr func(path string) error
}

type handler struct {
	prefix  string
	respond Responder
}

// NewHost returns an empty fake host.
func NewHost() *Host {
	return &Host{Files: map[string]*transport.File{}}
}

// SetFile stores a root-owned file with mode 0644.
func (h *Host) SetFile(path, content string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Files[path] = &transport.File{Data: []byte(content), Meta: transport.FileMeta{Mode: 0o644}}
}

// File returns the content of path and whether it exists.
func (h *Host) File(path string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.Files[path]
	if !ok {
		return "", false
	}
	return string(f.Data), true
}

// Handle makes respond produce the result of commands starting with prefix. Later handlers win
// over earlier ones with the same prefix.
func (h *Host) Handle(prefix string, respond Responder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handlers = append([]handler{{prefix, respond}}, h.handlers...)
}

// Reply makes commands starting with prefix exit with code and print stdout.
func (h *Host) Reply(prefix string, code int, stdout string) {
	h.Handle(prefix, func(string, []byte) transport.Result {
		return transport.Result{ExitCode: code, Stdout: []byte(stdout)}
	})
}

// Run returns the result of the first matching handler. A command no handler matches exits 127.
func (h *Host) Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error) {
	if err := ctx.Err(); err != nil {
		return transport.Result{}, err
	}
	h.mu.Lock()
	h.Commands = append(h.Commands, cmd)
	handlers := h.handlers
	h.mu.Unlock()

	for _, hd := range handlers {
		if strings.HasPrefix(cmd, hd.prefix) {
			return hd.respond(cmd, stdin), nil
		}
	}
	msg := fmt.Sprintf("tasktest: no handler for command %q", cmd)
	return transport.Result{ExitCode: 127, Stderr: []byte(msg)}, nil
}

// ReadFile returns a copy of the stored file.
func (h *Host) ReadFile(ctx context.Context, path string) (*transport.File, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.Files[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	c := *f
	c.Data = append([]byte(nil), f.Data...)
	return &c, nil
}

// WriteFile stores data at path.
func (h *Host) WriteFile(ctx context.Context, path string, data []byte,
	meta transport.FileMeta) error {
	if h.WriteErr != nil {
		if err := h.WriteErr(path); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Writes = append(h.Writes, path)
	h.Files[path] = &transport.File{Data: append([]byte(nil), data...), Meta: meta}
	return nil
}

// Remove deletes path.
func (h *Host) Remove(ctx context.Context, path string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.Files[path]; !ok {
		return fmt.Errorf("remove %s: %w", path, fs.ErrNotExist)
	}
	delete(h.Files, path)
	return nil
}

// MkdirAll records nothing: the fake host has no directories.
func (h *Host) MkdirAll(ctx context.Context, path string, mode fs.FileMode) error { return nil }

// Close does nothing.
func (h *Host) Close() error { return nil }

// Lock takes no lock: the fake host has one user at a time.
func (h *Host) Lock(ctx context.Context, path, owner string, wait time.Duration) (func(), error) {
	return func() {}, nil
}
