package transport

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestCommandLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.withFakeSudo(t, "s3cret-pw")
	f.cfg.BecomePassword = []byte("s3cret-pw")
	var logs bytes.Buffer
	f.cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		Level: slog.LevelDebug}))
	c := f.dial(t)

	ctx := WithLogAttrs(context.Background(), slog.String("task", "Probe"))
	if _, err := c.Run(ctx, "echo one\necho two; exit 3", []byte("stdin-secret")); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	for _, want := range []string{"task=Probe", "host=test-host",
		`cmd="echo one echo two; exit 3"`,
		"exit_code=3", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"s3cret-pw", "stdin-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestLogLineShortens(t *testing.T) {
	long := strings.Repeat("é", 100)

	got := logLine(long)

	if len(got) > maxCmdInLog+3 || !strings.HasSuffix(got, "...") {
		t.Errorf("logLine = %q, want at most %d bytes ending in ...", got, maxCmdInLog+3)
	}
	if !strings.HasPrefix(got, "é") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("logLine = %q, want whole characters", got)
	}
}
