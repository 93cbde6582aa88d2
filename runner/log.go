package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/fleetharden/fleetharden/report"
)

// logger returns Options.Logger, or a logger that discards every record.
func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}

	return slog.New(slog.DiscardHandler)
}

// logRunStart records the start of a run at Info.
func logRunStart(ctx context.Context, opts *Options, hosts int) {
	opts.logger().LogAttrs(ctx, slog.LevelInfo, "run started",
		slog.String("run_id", opts.RunID), slog.Int("hosts", hosts),
		slog.Bool("check", opts.Check))
}

// logRunEnd records the end of a run at Info, with the hosts by status.
func logRunEnd(ctx context.Context, opts *Options, results []report.Host,
	elapsed time.Duration) {
	counts := map[report.HostStatus]int{}
	for _, r := range results {
		counts[r.Status]++
	}

	attrs := []slog.Attr{slog.String("run_id", opts.RunID), slog.Int("hosts", len(results)),
		slog.Duration("duration", elapsed)}
	for _, status := range []report.HostStatus{report.HostOK, report.HostChanged,
		report.HostFailed, report.HostRolledBack, report.HostRollbackFailed,
		report.HostUnreachable, report.HostSkipped} {
		if counts[status] > 0 {
			attrs = append(attrs, slog.Int(string(status), counts[status]))
		}
	}
	opts.logger().LogAttrs(ctx, slog.LevelInfo, "run finished", attrs...)
}

// logConnected records at Info that the host was reached and logged in to.
func (h *hostRun) logConnected(ctx context.Context, elapsed time.Duration) {
	h.opts.logger().LogAttrs(ctx, slog.LevelInfo, "host connected",
		slog.String("run_id", h.opts.RunID), slog.String("host", h.job.Host.Name),
		slog.Duration("duration", elapsed))
}

// logDone records how the host ended: at Info when it ended ok, changed or
// skipped, and at Warn with its error otherwise.
func (h *hostRun) logDone(ctx context.Context) {
	level := slog.LevelWarn
	switch h.result.Status {
	case report.HostOK, report.HostChanged, report.HostSkipped:
		level = slog.LevelInfo
	}

	attrs := []slog.Attr{slog.String("run_id", h.opts.RunID),
		slog.String("host", h.job.Host.Name), slog.String("status", string(h.result.Status)),
		slog.Duration("duration", time.Duration(h.result.DurationMS)*time.Millisecond)}
	if h.result.Message != "" {
		attrs = append(attrs, slog.String("error", h.result.Message))
	}
	h.opts.logger().LogAttrs(ctx, level, "host finished", attrs...)
}
