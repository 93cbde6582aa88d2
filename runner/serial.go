package runner

import (
	"fmt"
	"strconv"
	"strings"
)

// BatchSize is one step of a rolling rollout: a number of hosts or a percentage of the
// fleet.
type BatchSize struct {
	Count   int
	Percent float64
}

// ParseSerial reads a rollout such as "1", "25%" or "1,10%,100%". The last size repeats
// until every host has had its turn. An empty string means one batch of every host.
func ParseSerial(s string) ([]BatchSize, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var sizes []BatchSize
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if p, ok := strings.CutSuffix(part, "%"); ok {
			n, err := strconv.ParseFloat(p, 64)
			if err != nil || n <= 0 || n > 100 {
				return nil, fmt.Errorf("invalid batch size %q: a percentage is "+
					"above 0%% and at most 100%%", part)
			}
			sizes = append(sizes, BatchSize{Percent: n})
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid batch size %q: use a host count of 1 or "+
				"more or a percentage, such as 1,10%%,100%%", part)
		}
		sizes = append(sizes, BatchSize{Count: n})
	}
	return sizes, nil
}

// batches splits n hosts into consecutive batches. A percentage is of the whole fleet,
// rounded down, and at least one host.
func batches(n int, sizes []BatchSize) [][2]int {
	if len(sizes) == 0 {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	for start, i := 0, 0; start < n; i++ {
		size := sizes[min(i, len(sizes)-1)]
		count := size.Count
		if size.Percent > 0 {
			count = max(int(float64(n)*size.Percent/100), 1)
		}
		end := min(start+count, n)
		out = append(out, [2]int{start, end})
		start = end
	}
	return out
}
