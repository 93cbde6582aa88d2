package audit

import (
	"context"
	"log/slog"
	"time"
)

// logger returns Options.Logger, or a logger that discards every record.
func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// logStart records the start of an audit.
func logStart(ctx context.Context, opts *Options, hosts int) {
	opts.logger().LogAttrs(ctx, slog.LevelInfo, "audit started", slog.Int("hosts", hosts),
		slog.Int("controls", len(opts.Controls)), slog.Int("forks", opts.Forks))
}

// logEnd records the end of an audit with its summary.
func logEnd(ctx context.Context, opts *Options, r *Report) {
	s := r.Summary
	opts.logger().LogAttrs(ctx, slog.LevelInfo, "audit finished", slog.Int("hosts", s.Hosts),
		slog.Duration("duration", r.End.Sub(r.Start)), slog.Int("passing", s.Passing),
		slog.Int("failing", s.Failing), slog.Int("unreachable", s.Unreachable),
		slog.Int("errors", s.Errors), slog.Int("skipped", s.Skipped))
}

// logHost records how the audit of one host ended: at Info when it was audited, and at
// Warn with the error when it was not.
func logHost(ctx context.Context, opts *Options, h *HostReport) {
	attrs := []slog.Attr{slog.String("host", h.Name), slog.String("status", string(h.Status)),
		slog.Duration("duration", time.Duration(h.DurationMS)*time.Millisecond)}
	if h.Status == HostAudited {
		attrs = append(attrs, slog.Int("fail", h.Counts.Fail), slog.Int("warn", h.Counts.Warn))
		opts.logger().LogAttrs(ctx, slog.LevelInfo, "host audited", attrs...)
		return
	}
	attrs = append(attrs, slog.String("error", h.Message))
	opts.logger().LogAttrs(ctx, slog.LevelWarn, "host not audited", attrs...)
}
