package transport

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// maxCmdInLog is the length of a command kept in log records.
const maxCmdInLog = 120

type logAttrsKey struct{}

// WithLogAttrs returns a copy of ctx that adds attrs, such as the task that
// runs the commands, to the log records of the commands run with it.
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	all := append(append([]slog.Attr(nil), prev...), attrs...)
	return context.WithValue(ctx, logAttrsKey{}, all)
}

// logCommand writes a Debug record for a finished command: the host, the
// command shortened to one line, its exit status and how long it ran. The
// standard input, which carries the sudo password, is never logged.
func (c *Client) logCommand(ctx context.Context, cmd string, res Result, err error,
	elapsed time.Duration) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}

	attrs, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	attrs = append(append([]slog.Attr(nil), attrs...),
		slog.String("host", c.name),
		slog.String("cmd", logLine(cmd)),
		slog.Duration("duration", elapsed),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("exit_code", res.ExitCode))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "command finished", attrs...)
}

// logLine joins the lines of cmd and cuts it to maxCmdInLog bytes.
func logLine(cmd string) string {
	line := strings.Join(strings.Fields(cmd), " ")
	if len(line) <= maxCmdInLog {
		return line
	}

	cut := maxCmdInLog
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return line[:cut] + "..."
}
