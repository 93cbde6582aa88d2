package inventory

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	// yamlErrorPattern matches the messages of yaml.v3 syntax errors, which carry a line
	// number but no column.
	yamlErrorPattern = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

	// unknownAnchorPattern matches the yaml.v3 error for an alias without an anchor.
	unknownAnchorPattern = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// yaml.v3 (v3.0.1) reports errors from three stages, and each places its line differently.
var (
	// parserErrorPrefixes start the messages of the parser stage. Its line is the 0-based
	// line of the construct being parsed, so it is one less than the 1-based line.
	parserErrorPrefixes = []string{
		"did not find expected", "found duplicate %", "found incompatible YAML document",
		"found undefined tag handle",
	}

	// readerErrorWords occur in the messages of the reader stage, which checks the
	// encoding. Its messages carry no line, so the position is found in the data instead.
	readerErrorWords = []string{"UTF-8", "UTF-16", "Unicode", "surrogate", "control characters"}
)

// addSyntaxError records a yaml.v3 syntax error at the best position that can be found.
// The line of a parser or scanner error is that of the construct being parsed, which may
// be a line or more before the mistake, so the message reports it as "near this line". A
// tab in indentation, an invalid character and an alias without an anchor are located
// exactly.
func (d *document) addSyntaxError(data []byte, err error) {
	line, msg := 0, err.Error()
	if m := yamlErrorPattern.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}

	if tab, ok := findIndentTab(data, line); ok {
		tab.File = d.file
		d.addError(tab, "\t", "invalid YAML: a tab character is used for indentation; "+
			"YAML indents with spaces only")
		return
	}
	if m := unknownAnchorPattern.FindStringSubmatch(msg); m != nil {
		d.addError(findText(d.file, data, "*"+m[1]), m[1], "invalid YAML: alias *%s refers "+
			"to no anchor; define &%s before this alias or remove the alias", m[1], m[1])
		return
	}
	if containsAny(msg, readerErrorWords) {
		pos := findInvalidCharacter(data)
		pos.File = d.file
		fix := "save the file as UTF-8 text"
		if strings.Contains(msg, "control characters") {
			fix = "remove the character or write it as an escape in a double-quoted string"
		}
		d.addError(pos, "", "invalid YAML: %s; %s", msg, fix)
		return
	}

	// yaml.v3 leaves out the line when its 0-based line is 0, which is line 1.
	if hasAnyPrefix(msg, parserErrorPrefixes) || line == 0 {
		line++
	}
	d.addError(Position{File: d.file, Line: line}, "", "invalid YAML near this line: %s", msg)
}

func containsAny(s string, words []string) bool {
	for _, word := range words {
		if strings.Contains(s, word) {
			return true
		}
	}

	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, prefix := range prefixes {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}

	return false
}

// findIndentTab returns the position of a tab in the indentation of the lines around line,
// which counts from 1. yaml.v3 reports tab errors on the line before the tab at times.
func findIndentTab(data []byte, line int) (Position, bool) {
	if line == 0 {
		return Position{}, false
	}
	lines := bytes.Split(data, []byte("\n"))

	for number := max(line-1, 1); number <= min(line+1, len(lines)); number++ {
		text := lines[number-1]
		indent := len(text) - len(bytes.TrimLeft(text, " \t"))
		if column := bytes.IndexByte(text[:indent], '\t'); column >= 0 {
			return Position{Line: number, Column: column + 1}, true
		}
	}

	return Position{}, false
}

// findText returns the position of the first occurrence of text in data, or a position
// with only the file name if text does not occur.
func findText(file string, data []byte, text string) Position {
	offset := bytes.Index(data, []byte(text))
	if offset < 0 {
		return Position{File: file}
	}

	pos := positionAt(data, offset)
	pos.File = file

	return pos
}

// findInvalidCharacter returns the position of the first byte that is not valid UTF-8 or
// is a control character that YAML does not allow, or an empty position if there is none.
// The column counts characters.
func findInvalidCharacter(data []byte) Position {
	for offset := 0; offset < len(data); {
		r, size := utf8.DecodeRune(data[offset:])
		invalid := r == utf8.RuneError && size == 1
		control := r < 0x20 && r != '\t' && r != '\n' && r != '\r' ||
			r == 0x7f || r >= 0x80 && r <= 0x9f && r != 0x85
		if invalid || control {
			return positionAt(data, offset)
		}
		offset += size
	}

	return Position{}
}

// positionAt returns the line and column, in characters, of a byte offset in data.
func positionAt(data []byte, offset int) Position {
	before := data[:offset]
	lineStart := bytes.LastIndexByte(before, '\n') + 1

	return Position{
		Line:   bytes.Count(before, []byte("\n")) + 1,
		Column: utf8.RuneCount(before[lineStart:]) + 1,
	}
}
