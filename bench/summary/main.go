// Command summary turns the raw results of bench/run.sh into Markdown tables.
//
// Usage:
//
//	summary table RESULTS.TSV     medians per fleet, phase and tool, and their ratios
//	summary tasks RESULTS.JSON... median duration of each task in fleetharden's results
//
// A row of results.tsv counts only when its result column is "ok": every host done, and
// as many changed as the phase expects.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) < 2 {
		return errors.New("usage: summary table RESULTS.TSV | summary tasks RESULTS.JSON...")
	}

	switch args[0] {
	case "table":
		rows, err := readResults(args[1])
		if err != nil {
			return err
		}
		writeTables(out, rows)
		return nil
	case "tasks":
		return writeTaskTable(out, args[1:])
	}
	return fmt.Errorf("unknown mode %q: use table or tasks", args[0])
}

// row is one line of results.tsv.
type row struct {
	size, phase, tool, result string
	hosts                     int
	wall, cpu, rss, pss, load float64 // NaN where the column holds "-"
}

// readResults parses results.tsv, skipping its header.
func readResults(file string) ([]row, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}

	var rows []row
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 13 {
			return nil, fmt.Errorf("read results %s:%d: want 13 columns, got %d",
				file, i+2, len(f))
		}
		hosts, _ := strconv.Atoi(f[1])
		rows = append(rows, row{
			size: f[0], hosts: hosts, phase: f[2], tool: f[3], result: f[12],
			wall: number(f[5]), cpu: number(f[6]), rss: number(f[7]), pss: number(f[8]),
			load: number(f[9]),
		})
	}
	return rows, nil
}

// number parses a column, returning NaN for "-" or anything else that is not a number.
func number(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// median returns the median of the values that are numbers, or NaN when there are none.
func median(values []float64) float64 {
	var list []float64
	for _, v := range values {
		if !math.IsNaN(v) {
			list = append(list, v)
		}
	}
	if len(list) == 0 {
		return math.NaN()
	}

	slices.Sort(list)
	mid := len(list) / 2
	if len(list)%2 == 1 {
		return list[mid]
	}
	return (list[mid-1] + list[mid]) / 2
}

// format prints a value with the given decimals, or "-" for NaN.
func format(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
