package inventory

import (
	"cmp"
	"slices"
	"strings"
)

// closest returns the candidate nearest to name if it is near enough to be a likely typo,
// or "".
func closest(name string, candidates []string) string {
	near := nearest(name, candidates, 1, false)
	if len(near) == 0 {
		return ""
	}

	return near[0]
}

// nearest returns up to limit candidates near enough to name to be likely typos, nearest
// first. Case is ignored. A candidate is near if its edit distance to name is at most a
// third of the length of name, or 1 for short names. It is also near if one of the two
// begins with the other and the shorter has at least 3 characters, so that "child" finds
// "children". With contained, one containing the other anywhere is enough, so that "web"
// finds "web01.example.com". Names longer than maxSuggestLength get no suggestions, which
// bounds the time spent on garbage input.
func nearest(name string, candidates []string, limit int, contained bool) []string {
	type scored struct {
		name     string
		distance int
	}
	lower := strings.ToLower(name)
	allowed := max(1, len(lower)/3)
	if len(lower) > maxSuggestLength {
		return nil
	}

	var found []scored
	for _, candidate := range candidates {
		other := strings.ToLower(candidate)
		if len(other) > maxSuggestLength {
			continue
		}
		distance := editDistance(lower, other)
		if distance <= allowed || related(lower, other, contained) {
			found = append(found, scored{candidate, distance})
		}
	}

	slices.SortStableFunc(found, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.distance, b.distance), strings.Compare(a.name, b.name))
	})

	var names []string
	for _, f := range found[:min(limit, len(found))] {
		names = append(names, f.name)
	}

	return names
}

// maxSuggestLength is the maximum length in bytes of a name that suggestions are computed
// for.
const maxSuggestLength = 100

// related reports whether one of a and b begins with the other, or with anywhere, contains
// it. The shorter must have at least 3 bytes.
func related(a, b string, anywhere bool) bool {
	if min(len(a), len(b)) < 3 {
		return false
	}
	if anywhere {
		return strings.Contains(a, b) || strings.Contains(b, a)
	}

	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// editDistance returns the optimal string alignment distance between a and b, counted in
// runes: the number of insertions, deletions, substitutions and swaps of two adjacent
// runes that turn a into b, no part being edited twice. A swap, a common typo, counts as
// one edit, where the Levenshtein distance counts two.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	rows := [3][]int{make([]int, len(y)+1), make([]int, len(y)+1), make([]int, len(y)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}

	// rows[0], rows[1] and rows[2] are the rows for i-2, i-1 and i.
	for i := 1; i <= len(x); i++ {
		previous, current := rows[1], rows[2]
		current[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				current[j] = min(current[j], rows[0][j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = rows[1], rows[2], rows[0]
	}

	return rows[1][len(y)]
}
