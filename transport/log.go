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

// logCommand writes a Debug record for a finished command: the host, the
// command shortened to one line, its exit status and how long it ran. The
// standard input, which carries the sudo password, is never logged.
func (c *Client) logCommand(ctx context.Context, cmd string, res Result, err error,
	elapsed time.Duration) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}

	attrs := []slog.Attr{
		slog.String("host", c.name),
		slog.String("cmd", logLine(cmd)),
		slog.Duration("duration", elapsed),
	}
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
