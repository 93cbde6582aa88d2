package main

import (
	"fmt"
	"io"
	"math"
)

// toolOrder is the order of the tools in a table: the limit first.
var toolOrder = []string{"floor", "fleetharden", "ansible"}

// group is the rows of one fleet and phase, such as the steady-state runs on full10.
type group struct {
	size, phase string
	hosts       int
	byTool      map[string][]row
}

// stats are the medians of one tool's good runs in a group.
type stats struct {
	good, runs                int
	wall, cpu, rss, pss, load float64
}

// groupRows groups the measured rows by fleet and phase, in the order they first appear.
// Warm-up and skipped rows are left out.
func groupRows(rows []row) []*group {
	var groups []*group
	index := map[string]*group{}
	for _, r := range rows {
		if r.phase == "warmup" || r.tool == "-" {
			continue
		}
		key := r.size + "/" + r.phase
		g, ok := index[key]
		if !ok {
			g = &group{size: r.size, phase: r.phase, hosts: r.hosts, byTool: map[string][]row{}}
			index[key] = g
			groups = append(groups, g)
		}
		g.byTool[r.tool] = append(g.byTool[r.tool], r)
	}
	return groups
}

// summarize returns the medians of the runs whose result is "ok".
func summarize(rows []row) stats {
	s := stats{runs: len(rows)}
	var wall, cpu, rss, pss, load []float64
	for _, r := range rows {
		if r.result != "ok" {
			continue
		}
		s.good++
		wall, cpu = append(wall, r.wall), append(cpu, r.cpu)
		rss, pss, load = append(rss, r.rss), append(pss, r.pss), append(load, r.load)
	}
	s.wall, s.cpu, s.rss = median(wall), median(cpu), median(rss)
	s.pss, s.load = median(pss), median(load)
	return s
}

// writeTables writes the medians, the ratios and the runs that went wrong.
func writeTables(out io.Writer, rows []row) {
	groups := groupRows(rows)

	fmt.Fprintln(out, "| fleet | phase | tool | good runs | wall s | CPU s | max RSS MiB "+
		"| peak PSS MiB | load |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|")
	for _, g := range groups {
		for _, tool := range toolOrder {
			if list, ok := g.byTool[tool]; ok {
				s := summarize(list)
				fmt.Fprintf(out, "| %s | %s | %s | %d/%d | %s | %s | %s | %s | %s |\n",
					g.size, g.phase, tool, s.good, s.runs, format(s.wall, 2), format(s.cpu, 2),
					format(s.rss, 1), format(s.pss, 1), format(s.load, 1))
			}
		}
	}

	fmt.Fprintln(out)
	writeRatios(out, groups)
	writeProblems(out, rows)
}

// writeRatios compares the median wall times: fleetharden to the floor, Ansible to
// fleetharden, and fleetharden's peak memory per host.
func writeRatios(out io.Writer, groups []*group) {
	fmt.Fprintln(out, "| fleet | phase | fleetharden / floor | Ansible / fleetharden "+
		"| fleetharden max RSS per host KiB |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	for _, g := range groups {
		fh, ok := g.byTool["fleetharden"]
		if !ok {
			continue
		}
		f := summarize(fh)
		floor := summarize(g.byTool["floor"])
		ansible := summarize(g.byTool["ansible"])
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", g.size, g.phase,
			format(ratio(f.wall, floor.wall), 2), format(ratio(ansible.wall, f.wall), 1),
			format(f.rss*1024/float64(g.hosts), 0))
	}
}

// ratio returns a/b, or NaN when b is missing or zero.
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// writeProblems lists every run whose result is not "ok", warm-up runs included.
func writeProblems(out io.Writer, rows []row) {
	var bad []row
	for _, r := range rows {
		if r.result != "ok" {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		fmt.Fprintln(out, "\nEvery run ended with every host done.")
		return
	}

	fmt.Fprintln(out, "\nRuns that did not count:")
	fmt.Fprintln(out)
	for _, r := range bad {
		fmt.Fprintf(out, "- %s %s %s: %s\n", r.size, r.phase, r.tool, r.result)
	}
}
