package tasks

import "context"

func init() {
	Register(&Kind{
		Name: "flush_handlers",
		Doc: "Run the handlers notified so far at this point of the play, instead of at " +
			"its end.",
		New: func(Args) (Task, error) { return flushHandlersTask{}, nil },
	})
}

// flushHandlersTask marks where the runner runs the handlers notified so far. The runner
// acts on the marker itself, so the task does nothing on the host.
type flushHandlersTask struct{}

// Run reports the flush.
func (flushHandlersTask) Run(context.Context, *Env) Outcome {
	return OK("handlers flushed")
}
