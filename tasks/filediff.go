package tasks

import (
	"context"
	"errors"
	"io/fs"

	"github.com/aymanbagabas/go-udiff"

	"github.com/fleetharden/fleetharden/transport"
)

// unifiedDiff returns the unified diff from old to new with "--- path" and "+++ path"
// headers, or "" when they are equal.
func unifiedDiff(path string, old, new []byte) string {
	return udiff.Unified(path, path, string(old), string(new))
}

// readFileIfExists returns the file at path, or nil when it does not exist, reading it
// once while env.Memo keeps it. Its errors are those of Host.ReadFile, which name the
// operation and the path. Callers must not modify the returned file.
func readFileIfExists(ctx context.Context, env *Env, path string) (*transport.File, error) {
	return recall(env.Memo, fileKey(path), func() (*transport.File, error) {
		f, err := env.Host.ReadFile(ctx, path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	})
}

// withDefaults returns args completed with the defaults of params, so a kind's New gets
// the same values whether or not the playbook reader filled them in.
func withDefaults(params []Param, args Args) Args {
	out := Args{}
	for _, p := range params {
		if p.Default != nil {
			out[p.Name] = p.Default
		}
	}
	for k, v := range args {
		out[k] = v
	}
	return out
}
