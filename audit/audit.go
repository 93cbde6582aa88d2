package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/transport"
)

// Conn is an open connection to one host.
type Conn interface {
	Host
	Close() error
}

// Dialer opens a connection to a host of the inventory.
type Dialer func(ctx context.Context, h *inventory.Host) (Conn, error)

// Options control the audit of a fleet.
type Options struct {
	Forks    int // hosts audited at once
	Dial     Dialer
	Controls []*Control
	// HostTimeout bounds gathering the state of one host, after the connection is open.
	// Zero means no limit.
	HostTimeout time.Duration
	// FailOnWarn makes warnings count as failures in the summary.
	FailOnWarn bool
	// Logger receives the start and end of the audit and of each host; nil discards them.
	Logger *slog.Logger
}

// Run audits every host, at most opts.Forks at a time, and returns the report with the
// hosts in the order given. A host that cannot be reached or queried is reported as
// such and does not stop the others. Nothing is changed on any host.
func Run(ctx context.Context, hosts []*inventory.Host, opts Options) *Report {
	r := &Report{Start: time.Now().UTC(), Hosts: make([]HostReport, len(hosts))}
	logStart(ctx, &opts, len(hosts))
	p := pool.New().WithMaxGoroutines(max(opts.Forks, 1))
	for i, h := range hosts {
		p.Go(func() {
			r.Hosts[i] = auditHost(ctx, h, opts)
			logHost(ctx, &opts, &r.Hosts[i])
		})
	}
	p.Wait()

	r.End = time.Now().UTC()
	r.Summarize(opts.Controls, opts.FailOnWarn)
	logEnd(ctx, &opts, r)
	return r
}

// auditHost connects to one host, gathers its state and decides every control.
func auditHost(ctx context.Context, h *inventory.Host, opts Options) (hr HostReport) {
	start := time.Now()
	hr = HostReport{Name: h.Name, Address: h.Address, Port: h.Port, Controls: []Result{}}
	defer func() { hr.DurationMS = time.Since(start).Milliseconds() }()

	if err := ctx.Err(); err != nil {
		hr.Status, hr.Message = HostSkipped, "not started: the audit was interrupted"
		return hr
	}
	conn, err := opts.Dial(ctx, h)
	if err != nil {
		// sudo refusing the user or its password is a fault of the host's
		// setup, not of the network, as a run reports it too.
		hr.Status, hr.Message = HostUnreachable, err.Error()
		if errors.Is(err, transport.ErrBecome) {
			hr.Status = HostError
		}
		return hr
	}
	defer conn.Close()

	state, err := gatherWithTimeout(ctx, conn, opts.HostTimeout)
	if err == nil {
		hr.Controls, err = Evaluate(opts.Controls, state)
	}
	if err != nil {
		hr.Status, hr.Message = HostError, err.Error()
		return hr
	}
	hr.Status, hr.State = HostAudited, state
	hr.count()
	return hr
}

func gatherWithTimeout(ctx context.Context, h Host, timeout time.Duration) (*State, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	state, err := Gather(ctx, h)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: gathering took longer than %v", err, timeout)
	}
	return state, err
}
