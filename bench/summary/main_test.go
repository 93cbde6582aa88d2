package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		values []float64
		want   float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5}, 5},
	}
	for _, tt := range tests {
		if got := median(tt.values); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.values, got, tt.want)
		}
	}

	if got := median([]float64{math.NaN()}); !math.IsNaN(got) {
		t.Errorf("median of no numbers = %v, want NaN", got)
	}
}

const sampleResults = "size\thosts\tphase\ttool\trep\twall_s\tcpu_s\tmax_rss_mib\t" +
	"peak_pss_mib\tload1\thosts_done\tchanged\tresult\n" +
	"full10\t10\twarmup\tfleetharden\t0\t9.00\t0.20\t14.0\t12.0\t1.0\t10\t10\tok\n" +
	"full10\t10\tsteady\tfloor\t1\t0.50\t0.02\t7.0\t6.0\t1.0\t10\t-\tok\n" +
	"full10\t10\tsteady\tfleetharden\t1\t1.00\t0.10\t10.0\t9.0\t1.0\t10\t0\tok\n" +
	"full10\t10\tsteady\tfleetharden\t2\t3.00\t0.10\t10.0\t9.0\t1.0\t9\t0\tlost 1 of 10 hosts\n" +
	"full10\t10\tsteady\tansible\t1\t20.00\t8.00\t60.0\t400.0\t1.0\t10\t0\tok\n" +
	"full50\t50\tsteady\t-\t-\t-\t-\t-\t-\t-\t-\t-\tskipped: not enough memory\n"

func TestTablesCountOnlyGoodRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "results.tsv")
	if err := os.WriteFile(file, []byte(sampleResults), 0o600); err != nil {
		t.Fatalf("write results: %v", err)
	}
	var out bytes.Buffer

	if err := run([]string{"table", file}, &out); err != nil {
		t.Fatalf("summary table: %v", err)
	}

	text := out.String()
	for _, want := range []string{
		"| full10 | steady | fleetharden | 1/2 | 1.00 | 0.10 | 10.0 | 9.0 | 1.0 |",
		"| full10 | steady | 2.00 | 20.0 | 1024 |",
		"- full10 steady fleetharden: lost 1 of 10 hosts",
		"- full50 steady -: skipped: not enough memory",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "warmup |") {
		t.Errorf("output lists a warm-up run in the tables:\n%s", text)
	}
}
