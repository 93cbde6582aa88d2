package inventory

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// fileSyntax is the syntax of an inventory file.
type fileSyntax int

const (
	syntaxUnknown fileSyntax = iota
	syntaxYAML
	syntaxINI
)

func (s fileSyntax) String() string {
	if s == syntaxINI {
		return "INI"
	}

	return "YAML"
}

var (
	// yamlKeyPattern matches a line that starts with a YAML mapping key: a name, plain or
	// quoted, then ':' and a space or the end of the line. No valid INI line matches it,
	// because an INI host line has '=' before any such ':', and an INI host must not end
	// with ':'.
	yamlKeyPattern = regexp.MustCompile(`^(?:"[^"]*"|'[^']*'|[^\s#;=\[\]{}"'-][^=#]*?)\s*:` +
		`(?:\s|$)`)

	// yamlTopKeyPattern matches a YAML mapping key alone on its line, the form of the
	// top-level keys of YAML inventories (all:, web:), with an optional comment.
	yamlTopKeyPattern = regexp.MustCompile(`^[^\s#;=\[\]{}"'-][^\s=]*:\s*(?:#.*)?$`)
)

// syntaxLine is a line of an inventory that is not blank and not a comment.
type syntaxLine struct {
	number   int
	text     string // without surrounding whitespace
	indented bool
}

// detectSyntax decides whether data is a YAML or an INI inventory by the rule in the
// package documentation. It records an error in d and returns syntaxUnknown if data is
// empty or mixes both, and it warns when the file name extension names the other syntax.
func detectSyntax(d *document, data []byte) fileSyntax {
	lines := syntaxLines(data)
	if len(lines) == 0 {
		d.addError(Position{File: d.file}, "",
			"inventory is empty; list at least one host (see inventory.example.yaml)")
		return syntaxUnknown
	}

	first := lines[0]
	syntax := syntaxINI
	if isYAMLStart(first.text) {
		syntax = syntaxYAML
	}

	for _, line := range lines[1:] {
		if other := otherSyntaxLine(syntax, line); other != "" {
			d.addError(Position{File: d.file, Line: line.number, Column: 1}, line.text,
				"cannot tell the inventory format: line %d (%s) is %s, but this line is %s; "+
					"write the whole file in one format", first.number, shorten(first.text),
				syntax, other)
			return syntaxUnknown
		}
	}
	warnExtension(d, syntax, first)

	return syntax
}

// syntaxLines returns the lines of data that are not blank and not comments, which start
// with '#' in both formats and with ';' in INI.
func syntaxLines(data []byte) []syntaxLine {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	var lines []syntaxLine
	for i, raw := range strings.Split(string(data), "\n") {
		text := strings.TrimSpace(raw)
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		lines = append(lines, syntaxLine{number: i + 1, text: text, indented: raw[0] != text[0]})
	}

	return lines
}

// isYAMLStart reports whether the first line of an inventory that is not blank or a
// comment starts a YAML document: a document marker or directive, a mapping key, a flow
// mapping (as in JSON), a sequence item, a tag, an anchor or an explicit key. No INI host
// name starts with the characters of the last three, which host patterns use.
func isYAMLStart(text string) bool {
	switch {
	case text == "---" || strings.HasPrefix(text, "--- "), strings.HasPrefix(text, "%"):
		return true
	case strings.HasPrefix(text, "{"), text == "-" || strings.HasPrefix(text, "- "):
		return true
	case strings.HasPrefix(text, "!"), strings.HasPrefix(text, "&"),
		text == "?" || strings.HasPrefix(text, "? "):
		return true
	default:
		return yamlKeyPattern.MatchString(text)
	}
}

// otherSyntaxLine describes line if it is an unindented line that only the other syntax
// has: an INI section header in YAML, or a YAML top-level key or document marker in INI.
// It returns "" for other lines. Indented lines do not count, because the text blocks of
// YAML may contain anything.
func otherSyntaxLine(syntax fileSyntax, line syntaxLine) string {
	switch {
	case line.indented:
		return ""
	case syntax == syntaxYAML && iniSectionPattern.MatchString(line.text):
		return "an INI section header"
	case syntax == syntaxINI && yamlTopKeyPattern.MatchString(line.text):
		return "a YAML mapping key"
	case syntax == syntaxINI && (line.text == "---" || strings.HasPrefix(line.text, "--- ")):
		return "a YAML document marker"
	default:
		return ""
	}
}

// warnExtension warns when the extension of the file name names the other syntax, because
// the reader then may not expect how the file is read.
func warnExtension(d *document, syntax fileSyntax, first syntaxLine) {
	extension := strings.ToLower(filepath.Ext(d.file))
	named := syntaxUnknown
	switch extension {
	case ".yaml", ".yml", ".json":
		named = syntaxYAML
	case ".ini":
		named = syntaxINI
	}
	if named == syntaxUnknown || named == syntax {
		return
	}

	d.warnOnce("extension", Position{File: d.file, Line: first.number, Column: 1},
		"the file name ends in %s, but the content is %s (decided by this line), so the "+
			"file is read as an %s inventory", extension, syntax, syntax)
}

// shorten quotes text for a message, cutting it to 40 bytes.
func shorten(text string) string {
	if len(text) <= 40 {
		return strconv.Quote(text)
	}

	return strconv.Quote(strings.ToValidUTF8(text[:40], "")) + "..."
}
