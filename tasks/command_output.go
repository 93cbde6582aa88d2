package tasks

import (
	"strings"
	"unicode/utf8"
)

// messageMaxRunes bounds the remote output quoted in one outcome message, so a chatty
// command cannot flood the report.
const messageMaxRunes = 300

// sanitizeOutput returns remote output as valid UTF-8 that cannot forge report lines or
// send terminal escapes. Invalid bytes, control characters and bidirectional overrides
// become U+FFFD and carriage returns are dropped. Newlines and tabs are kept when
// keepLines is true and become U+FFFD otherwise.
func sanitizeOutput(s string, keepLines bool) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))

	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r':
		case (r == '\n' || r == '\t') && keepLines:
			b.WriteRune(r)
		case isUnsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isUnsafeRune reports whether r is a C0 or C1 control character or a Unicode
// bidirectional embedding, override or isolate, which can make text display in an order
// other than the one it is stored in.
func isUnsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// outputTail returns the last n non-blank lines of out, sanitized and joined with " | "
// for a one-line message, keeping at most messageMaxRunes runes from the end.
func outputTail(out []byte, n int) string {
	lines := nonBlankLines(sanitizeOutput(string(out), true))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return shortenFront(strings.Join(lines, " | "), messageMaxRunes)
}

// nonBlankLines splits text into lines, trims their surrounding space and drops the
// blank ones.
func nonBlankLines(text string) []string {
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// shortenFront keeps the last limit runes of s, marking a cut with a leading "...".
func shortenFront(s string, limit int) string {
	runes := []rune(s)
	if len(runes) <= limit {
		return s
	}
	return "..." + string(runes[len(runes)-limit:])
}

// shortenBack keeps the first limit runes of s, marking a cut with a trailing "...".
func shortenBack(s string, limit int) string {
	runes := []rune(s)
	if len(runes) <= limit {
		return s
	}
	return string(runes[:limit]) + "..."
}

// remoteReport is the parsed output of a script that fleetharden runs on a host. The
// script prints "key=value" lines first, then sections, each opened by a line
// "--- fleetharden NAME" and running to the next such line. Scripts print the sections
// they compute themselves before those that copy output of other programs.
type remoteReport struct {
	fields   map[string]string
	sections map[string]string
}

// reportSectionMarker starts the line that opens a section of a remoteReport.
const reportSectionMarker = "--- fleetharden "

// parseRemoteReport splits script output into fields and sections. A marker naming a
// section that was already opened is kept as an ordinary line, so copied output cannot
// replace a section printed before it. Lines before the first section that hold no '='
// are ignored.
func parseRemoteReport(out []byte) remoteReport {
	report := remoteReport{fields: map[string]string{}, sections: map[string]string{}}
	section := ""
	var body []string
	flush := func() {
		if section != "" {
			report.sections[section] = strings.Join(body, "\n")
		}
	}

	for line := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
		name, isMarker := strings.CutPrefix(line, reportSectionMarker)
		if _, seen := report.sections[name]; isMarker && !seen && name != section {
			flush()
			section, body = name, nil
			report.sections[section] = ""
			continue
		}
		if section != "" {
			body = append(body, line)
			continue
		}
		if key, value, ok := strings.Cut(line, "="); ok {
			report.fields[key] = value
		}
	}
	flush()
	return report
}
