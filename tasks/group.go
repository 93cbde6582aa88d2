package tasks

import (
	"context"
	"fmt"
	"strconv"
)

// maxID is the largest user or group id Linux accepts: (uid_t)-1 is reserved.
const maxID = 1<<32 - 2

func init() {
	Register(&Kind{
		Name: "group",
		Doc:  "Ensure a local group exists, creating it with groupadd if it is missing.",
		Params: []Param{
			{Name: "name", Type: TypeString, Required: true, Doc: "group name"},
			{Name: "gid", Type: TypeInt,
				Doc: "group id to create the group with; an existing group must have it"},
			{Name: "system", Type: TypeBool, Default: false,
				Doc: "create a system group, with a gid from the system range"},
		},
		New: newGroupTask,
	})
}

// groupTask ensures that a group exists.
type groupTask struct {
	name   string
	gid    int
	hasGID bool
	system bool
}

func newGroupTask(args Args) (Task, error) {
	t := &groupTask{
		name:   args.String("name"),
		gid:    args.Int("gid"),
		hasGID: args.Has("gid"),
		system: args.Bool("system"),
	}

	if err := CheckName("group", t.name); err != nil {
		return nil, err
	}
	if t.hasGID && (t.gid < 0 || t.gid > maxID) {
		return nil, fmt.Errorf("invalid gid %d for group %s: use 0 to %d", t.gid, t.name, maxID)
	}
	return t, nil
}

func (*groupTask) sharedReads() []string { return []string{accountFileKind} }

// Run creates the group unless it exists.
func (t *groupTask) Run(ctx context.Context, env *Env) Outcome {
	entry, _, found, err := lookupGroup(ctx, env, t.name)
	if err != nil {
		return Failed(fmt.Errorf("look up group %s: %w", t.name, err))
	}
	if found {
		return t.checkExisting(entry)
	}

	if env.Check {
		env.Memo.plan(plannedGroupKey(t.name))
		return Changed("would create group " + t.name)
	}

	env.Undo.GroupCreated(t.name)
	cmd := t.groupaddCommand()
	res, err := env.Host.Run(ctx, cmd, nil)
	if err != nil {
		return Failed(&remoteError{op: "create group " + t.name, err: err})
	}
	if res.ExitCode != 0 {
		return Failed(fmt.Errorf("create group %s: %s exited with status %d: %s",
			t.name, cmd, res.ExitCode, outputTail(res.Stderr, 3)))
	}
	return Changed("created group " + t.name)
}

// checkExisting reports ok for an existing group unless its gid differs from the one
// requested.
func (t *groupTask) checkExisting(entry groupEntry) Outcome {
	if t.hasGID && entry.gid != t.gid {
		return Failed(fmt.Errorf("group %s has gid %d, not %d: change the gid by hand "+
			"(groupmod --gid, then chgrp the files the old gid owns), because fleetharden "+
			"does not renumber existing groups", t.name, entry.gid, t.gid))
	}
	return OK(fmt.Sprintf("group %s exists (gid %d)", t.name, entry.gid))
}

// groupaddCommand returns the groupadd command line for the task.
func (t *groupTask) groupaddCommand() string {
	cmd := "groupadd"
	if t.hasGID {
		cmd += " --gid " + strconv.Itoa(t.gid)
	}
	if t.system {
		cmd += " --system"
	}
	return cmd + " " + Quote(t.name)
}
