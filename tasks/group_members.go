package tasks

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

func init() {
	Register(&Kind{
		Name: "group_members",
		Doc: "Add users to a group as supplementary members, leaving its other members " +
			"alone.",
		Params: []Param{
			{Name: "group", Type: TypeString, Required: true, Doc: "group to add the users to"},
			{Name: "users", Type: TypeStringList, Required: true,
				Doc: "users that must be members; each must already exist"},
		},
		New: newGroupMembersTask,
	})
}

// groupMembersTask adds users to a group.
type groupMembersTask struct {
	group string
	users []string // validated, without duplicates, in playbook order
}

func newGroupMembersTask(args Args) (Task, error) {
	t := &groupMembersTask{group: args.String("group")}
	if err := CheckName("group", t.group); err != nil {
		return nil, err
	}

	for _, user := range args.Strings("users") {
		if err := CheckName("user", user); err != nil {
			return nil, err
		}
		if !slices.Contains(t.users, user) {
			t.users = append(t.users, user)
		}
	}
	return t, nil
}

func (*groupMembersTask) sharedReads() []string { return []string{accountFileKind} }

// plannedGroupKey names, in the memo's check mode plans, the creation of group.
func plannedGroupKey(group string) memoKey {
	return memoKey{kind: "group created", object: group}
}

// Run adds the users that are not members yet.
func (t *groupMembersTask) Run(ctx context.Context, env *Env) Outcome {
	if len(t.users) == 0 {
		return OK("no users listed for " + t.group)
	}

	entry, local, found, err := lookupGroup(ctx, env, t.group)
	if err != nil {
		return Failed(fmt.Errorf("look up group %s: %w", t.group, err))
	}
	if !found && env.Check && env.Memo.isPlanned(plannedGroupKey(t.group)) {
		// An earlier task would create the group, with no members yet.
		return t.addMembers(ctx, env, t.users, nil)
	}
	if !found {
		return Failed(fmt.Errorf("group %s does not exist; add a group task before this one",
			t.group))
	}

	var present, missing []string
	for _, user := range t.users {
		if entry.hasMember(user) {
			present = append(present, user)
		} else {
			missing = append(missing, user)
		}
	}
	if len(missing) == 0 {
		return OK(fmt.Sprintf("%s already in %s", strings.Join(present, ", "), t.group))
	}
	if !local {
		return Failed(fmt.Errorf("group %s is not defined in %s but by another name service "+
			"such as LDAP, so %s cannot be added here: add them in that service",
			t.group, groupFile, strings.Join(missing, ", ")))
	}
	return t.addMembers(ctx, env, missing, present)
}

// addMembers checks that every user in missing exists and then adds them all in one
// command.
func (t *groupMembersTask) addMembers(ctx context.Context, env *Env, missing,
	present []string) Outcome {
	unknown, err := unknownUsers(ctx, env, missing)
	if err != nil {
		return Failed(fmt.Errorf("look up users for group %s: %w", t.group, err))
	}
	if len(unknown) > 0 {
		return Failed(fmt.Errorf("cannot add to group %s: user %s not found on this host; "+
			"create the users first or remove them from users", t.group,
			strings.Join(unknown, ", ")))
	}

	added := strings.Join(missing, ", ")
	if env.Check {
		return Changed(withPresent(fmt.Sprintf("would add %s to %s", added, t.group),
			present, t.group))
	}

	for _, user := range missing {
		env.Undo.MemberAdded(t.group, user)
	}
	if err := t.runGpasswd(ctx, env.Host, missing); err != nil {
		return Failed(err)
	}
	msg := fmt.Sprintf("added %s to %s (applies from each user's next login)", added, t.group)
	return Changed(withPresent(msg, present, t.group))
}

// runGpasswd adds users to the group with one gpasswd per user, chained with && so the
// first failure stops the rest.
func (t *groupMembersTask) runGpasswd(ctx context.Context, host Host, users []string) error {
	parts := make([]string, len(users))
	for i, user := range users {
		parts[i] = "gpasswd -a " + Quote(user) + " " + Quote(t.group)
	}
	cmd := strings.Join(parts, " && ")

	res, err := host.Run(ctx, cmd, nil)
	if err != nil {
		return &remoteError{op: "add members to group " + t.group, err: err}
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("add members to group %s: gpasswd exited with status %d: %s",
			t.group, res.ExitCode, outputTail(res.Stderr, 3))
	}
	return nil
}

// withPresent appends the users that were already members to msg.
func withPresent(msg string, present []string, group string) string {
	if len(present) == 0 {
		return msg
	}
	return fmt.Sprintf("%s; %s already in %s", msg, strings.Join(present, ", "), group)
}

// unknownUsers returns the users that neither /etc/passwd nor the name service switch
// defines. Users missing from the file are looked up with a single getent command.
func unknownUsers(ctx context.Context, env *Env, users []string) ([]string, error) {
	text, err := readAccountFile(ctx, env, passwdFile)
	if err != nil {
		return nil, err
	}
	local := passwdNames(text)

	var rest []string
	for _, user := range users {
		if !local[user] {
			rest = append(rest, user)
		}
	}
	if len(rest) == 0 {
		return nil, nil
	}
	return unknownUsersNSS(ctx, env.Host, rest)
}

// unknownUsersNSS returns the users that `getent passwd` does not find.
func unknownUsersNSS(ctx context.Context, host Host, users []string) ([]string, error) {
	quoted := make([]string, len(users))
	for i, user := range users {
		quoted[i] = Quote(user)
	}
	cmd := "getent passwd " + strings.Join(quoted, " ")

	res, err := host.Run(ctx, cmd, nil)
	if err != nil {
		return nil, &remoteError{op: "run " + cmd, err: err}
	}
	if res.ExitCode != getentOK && res.ExitCode != getentNotFound {
		return nil, fmt.Errorf("run %s: exit status %d: %s", cmd, res.ExitCode,
			outputTail(res.Stderr, 3))
	}

	found := passwdNames(string(res.Stdout))
	var unknown []string
	for _, user := range users {
		if !found[user] {
			unknown = append(unknown, user)
		}
	}
	return unknown, nil
}
