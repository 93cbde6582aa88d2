package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// runResult is the part of fleetharden's --json results that the task table reads.
type runResult struct {
	Hosts []struct {
		DurationMS float64 `json:"duration_ms"`
		Tasks      []struct {
			Name       string  `json:"name"`
			DurationMS float64 `json:"duration_ms"`
		} `json:"tasks"`
	} `json:"hosts"`
}

// writeTaskTable prints the median duration of each task, over every host of every
// results file, in the order the tasks first appear, and of whole hosts.
func writeTaskTable(out io.Writer, files []string) error {
	var names []string
	durations := map[string][]float64{}
	var hosts []float64

	for _, file := range files {
		res, err := readRunResult(file)
		if err != nil {
			return err
		}
		for _, h := range res.Hosts {
			hosts = append(hosts, h.DurationMS)
			for _, t := range h.Tasks {
				if _, seen := durations[t.Name]; !seen {
					names = append(names, t.Name)
				}
				durations[t.Name] = append(durations[t.Name], t.DurationMS)
			}
		}
	}

	fmt.Fprintln(out, "| task | median ms |")
	fmt.Fprintln(out, "|---|---|")
	for _, name := range names {
		fmt.Fprintf(out, "| %s | %s |\n", name, format(median(durations[name]), 0))
	}
	fmt.Fprintf(out, "| whole host, connection included | %s |\n", format(median(hosts), 0))
	return nil
}

func readRunResult(file string) (*runResult, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}

	res := &runResult{}
	if err := json.Unmarshal(data, res); err != nil {
		return nil, fmt.Errorf("parse results %s: %w", file, err)
	}
	return res, nil
}
