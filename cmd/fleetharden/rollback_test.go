package main

import (
	"testing"

	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
)

func TestNoJournalAnywhere(t *testing.T) {
	const id = "20261204T000000Z-aaaaaa"
	none := report.Host{Status: report.HostOK, Message: runner.NoJournalMessage(id)}
	tests := []struct {
		name  string
		hosts []report.Host
		want  bool
	}{
		{"every host without a journal", []report.Host{none, none}, true},
		{"one host rolled back", []report.Host{none, {Status: report.HostRolledBack}}, false},
		{"one host unreachable", []report.Host{none, {Status: report.HostUnreachable}}, false},
		{"no host", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noJournalAnywhere(tt.hosts, id); got != tt.want {
				t.Errorf("noJournalAnywhere = %t, want %t", got, tt.want)
			}
		})
	}
}
