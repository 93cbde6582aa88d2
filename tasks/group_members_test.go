package tasks

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

const testPasswdFile = "root:x:0:0:root:/root:/bin/bash\n" +
	"alice:x:1000:1000::/home/alice:/bin/bash\n" +
	"bob:x:1001:1001::/home/bob:/bin/bash\n" +
	"+::::::\n"

func TestGroupMembersNewRejectsInvalidArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"bad group", Args{"group": "Docker!", "users": []string{"alice"}}, "invalid group name"},
		{"bad user", Args{"group": "docker", "users": []string{"alice", "$(reboot)"}},
			"invalid user name"},
		{"user with newline", Args{"group": "docker", "users": []string{"a\nb"}},
			"invalid user name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildSystemTask(t, "group_members", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGroupMembersRun(t *testing.T) {
	tests := []struct {
		name       string
		group      string
		users      []string
		check      bool
		getentPw   string // stdout of getent passwd
		gpasswd    int    // exit status of gpasswd
		wantStatus Status
		wantMsg    string
		wantCmds   []string
		wantUndo   []string
	}{
		{
			name: "empty list", group: "docker", users: []string{},
			wantStatus: StatusOK, wantMsg: "no users listed for docker",
		},
		{
			name: "all present", group: "docker", users: []string{"alice"},
			wantStatus: StatusOK, wantMsg: "alice already in docker",
		},
		{
			name: "group missing", group: "nogroup", users: []string{"alice"},
			wantStatus: StatusFailed,
			wantMsg:    "group nogroup does not exist; add a group task before this one",
			wantCmds:   []string{"getent group nogroup"},
		},
		{
			name: "partial membership", group: "docker", users: []string{"alice", "bob"},
			wantStatus: StatusChanged,
			wantMsg: "added bob to docker (applies from each user's next login); " +
				"alice already in docker",
			wantCmds: []string{"gpasswd -a bob docker"},
			wantUndo: []string{"member docker bob"},
		},
		{
			name: "two added in one command", group: "adm", users: []string{"alice", "bob"},
			wantStatus: StatusChanged,
			wantMsg:    "added alice, bob to adm (applies from each user's next login)",
			wantCmds:   []string{"gpasswd -a alice adm && gpasswd -a bob adm"},
			wantUndo:   []string{"member adm alice", "member adm bob"},
		},
		{
			name: "duplicates collapsed", group: "adm", users: []string{"bob", "bob"},
			wantStatus: StatusChanged, wantMsg: "added bob to adm",
			wantCmds: []string{"gpasswd -a bob adm"},
			wantUndo: []string{"member adm bob"},
		},
		{
			name: "user from nss", group: "adm", users: []string{"carol"},
			getentPw:   "carol:*:2000:2000::/home/carol:/bin/sh\n",
			wantStatus: StatusChanged, wantMsg: "added carol to adm",
			wantCmds: []string{"getent passwd carol", "gpasswd -a carol adm"},
			wantUndo: []string{"member adm carol"},
		},
		{
			name: "missing users change nothing", group: "adm",
			users:      []string{"alice", "carol", "dave", "erin"},
			getentPw:   "dave:*:2001:2001::/home/dave:/bin/sh\n",
			wantStatus: StatusFailed,
			wantMsg:    "cannot add to group adm: user carol, erin not found on this host",
			wantCmds:   []string{"getent passwd carol dave erin"},
		},
		{
			name: "check mode adds nothing", group: "docker", users: []string{"alice", "bob"},
			check:      true,
			wantStatus: StatusChanged,
			wantMsg:    "would add bob to docker; alice already in docker",
		},
		{
			name: "gpasswd fails", group: "adm", users: []string{"bob"}, gpasswd: 3,
			wantStatus: StatusFailed,
			wantMsg:    "gpasswd exited with status 3: gpasswd: cannot lock /etc/group",
			wantCmds:   []string{"gpasswd -a bob adm"},
			wantUndo:   []string{"member adm bob"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.SetFile("/etc/group", testGroupFile)
			host.SetFile("/etc/passwd", testPasswdFile)
			host.Reply("getent group ", 2, "")
			host.Reply("getent passwd ", 2, tt.getentPw)
			host.Handle("gpasswd", stderrReply(tt.gpasswd, "gpasswd: cannot lock /etc/group"))
			undo := &tasktest.Undo{}

			task := mustBuildSystemTask(t, "group_members",
				Args{"group": tt.group, "users": tt.users})
			out := task.Run(context.Background(), &Env{Host: host, Check: tt.check, Undo: undo})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			assertStrings(t, "commands", host.Commands, tt.wantCmds)
			assertStrings(t, "undo records", undo.Records, tt.wantUndo)
		})
	}
}

func TestGroupMembersNSSGroup(t *testing.T) {
	tests := []struct {
		name       string
		users      []string
		wantStatus Status
		wantMsg    string
	}{
		{"members already", []string{"bob"}, StatusOK, "bob already in ldapgrp"},
		{"cannot add", []string{"alice"}, StatusFailed,
			"group ldapgrp is not defined in /etc/group but by another name service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.SetFile("/etc/group", testGroupFile)
			host.SetFile("/etc/passwd", testPasswdFile)
			host.Reply("getent group ", 0, "ldapgrp:*:5000:bob\n")
			undo := &tasktest.Undo{}

			task := mustBuildSystemTask(t, "group_members",
				Args{"group": "ldapgrp", "users": tt.users})
			out := task.Run(context.Background(), &Env{Host: host, Undo: undo})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			assertStrings(t, "commands", host.Commands, []string{"getent group ldapgrp"})
			assertStrings(t, "undo records", undo.Records, nil)
		})
	}
}

func TestGroupMembersGetentPasswdError(t *testing.T) {
	host := tasktest.NewHost()
	host.SetFile("/etc/group", testGroupFile)
	host.Reply("getent passwd ", 1, "")
	undo := &tasktest.Undo{}
	task := mustBuildSystemTask(t, "group_members", Args{"group": "adm", "users": []string{"zed"}})

	out := task.Run(context.Background(), &Env{Host: host, Undo: undo})

	assertOutcome(t, out, StatusFailed, "exit status 1")
	assertStrings(t, "undo records", undo.Records, nil)
}

func TestGroupMembersCheckAfterPlannedGroup(t *testing.T) {
	tests := []struct {
		name       string
		users      []string
		wantStatus Status
		wantMsg    string
		wantCmds   []string
	}{
		{"known users", []string{"alice", "bob"}, StatusChanged, "would add alice, bob to newgrp",
			[]string{"getent group newgrp", "getent group newgrp"}},
		{"unknown user", []string{"zed"}, StatusFailed, "user zed not found on this host",
			[]string{"getent group newgrp", "getent group newgrp", "getent passwd zed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.SetFile("/etc/group", testGroupFile)
			host.SetFile("/etc/passwd", testPasswdFile)
			host.Reply("getent group ", 2, "")
			host.Reply("getent passwd ", 2, "")
			env := &Env{Host: host, Check: true, Undo: &tasktest.Undo{}, Memo: NewMemo()}
			group := mustBuildSystemTask(t, "group", Args{"name": "newgrp"})
			members := mustBuildSystemTask(t, "group_members",
				Args{"group": "newgrp", "users": tt.users})

			created := group.Run(context.Background(), env)
			env.Memo.Forget() // as the runner does after a change
			out := members.Run(context.Background(), env)

			assertOutcome(t, created, StatusChanged, "would create group newgrp")
			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			assertStrings(t, "commands", host.Commands, tt.wantCmds)
		})
	}
}
