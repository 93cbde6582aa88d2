package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

func TestRunLogsMilestones(t *testing.T) {
	pb, err := playbook.Parse("pb.yaml", []byte(handlerPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []Job
	for _, name := range []string{"h1", "gone"} {
		plan, err := pb.Compile(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, Job{Host: &inventory.Host{Name: name}, Plan: plan})
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	Run(context.Background(), jobs, Options{RunID: "r7", Forks: 1, TaskTimeout: 1e9,
		Dial: fleet{"h1": tasktest.NewHost()}.dial, Observer: &recorder{}, Logger: logger})

	records := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["run_id"] != "r7" {
			t.Errorf("record %v lacks run_id r7", rec)
		}
		records[rec["msg"].(string)] = append(records[rec["msg"].(string)], rec)
	}

	if got := records["run started"]; len(got) != 1 || got[0]["hosts"] != 2.0 {
		t.Errorf("run started = %v, want one record with hosts 2", got)
	}
	if got := records["host connected"]; len(got) != 1 || got[0]["host"] != "h1" {
		t.Errorf("host connected = %v, want one record for h1", got)
	}
	if got := records["host finished"]; len(got) != 2 {
		t.Errorf("host finished = %v, want one record per host", got)
	}
	for _, rec := range records["host finished"] {
		if rec["host"] == "gone" && (rec["level"] != "WARN" || rec["status"] != "unreachable") {
			t.Errorf("unreachable host record = %v, want WARN with its status", rec)
		}
	}
	end := records["run finished"]
	if len(end) != 1 || end[0]["changed"] != 1.0 || end[0]["unreachable"] != 1.0 {
		t.Errorf("run finished = %v, want the hosts counted by status", end)
	}
}
