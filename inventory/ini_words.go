package inventory

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// newINILine returns line number of an INI file without its surrounding whitespace, with
// the column of each byte counted in characters from the start of the raw line.
func newINILine(number int, raw string) iniText {
	columns := make([]int, len(raw)+1)
	column := 1
	for i := 0; i < len(raw); column++ {
		_, size := utf8.DecodeRuneInString(raw[i:])
		for end := i + size; i < end; i++ {
			columns[i] = column
		}
	}
	columns[len(raw)] = column

	start := len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace))
	end := max(start, len(strings.TrimRightFunc(raw, unicode.IsSpace)))

	return iniText{text: raw[start:end], line: number, start: columns[start],
		columns: columns[start : end+1]}
}

// wordSplitter splits an INI host line into words.
type wordSplitter struct {
	line    iniText
	words   []iniText
	text    []byte // the word being read
	columns []int  // the column of each byte of text
	start   int    // the column where the word starts
	inWord  bool   // a word has started, possibly with an empty pair of quotes
}

// splitHostLine splits an INI host line into words as Python's shlex.split(line,
// comments=True) does, which is how Ansible 2.14 splits it. Spaces, tabs and line breaks
// separate words. Single quotes keep every character up to the closing quote. Double
// quotes do the same, except that a backslash before " or \ keeps only that character.
// Outside quotes, a backslash keeps the next character and # starts a comment, even in the
// middle of a word.
func splitHostLine(line iniText) ([]iniText, *textProblem) {
	s := &wordSplitter{line: line}

	for i := 0; i < len(line.text); i++ {
		c := line.text[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			s.endWord(i)
			continue
		case '#':
			s.endWord(i)
			return s.words, nil
		}

		s.begin(i)
		switch c {
		case '\'', '"':
			end, problem := s.quoted(i)
			if problem != nil {
				return nil, problem
			}
			i = end
		case '\\':
			if i+1 == len(line.text) {
				return nil, &textProblem{offset: i, msg: "a backslash at the end of the " +
					"line escapes nothing; remove it or put it in quotes"}
			}
			i++
			s.add(i)
		default:
			s.add(i)
		}
	}
	s.endWord(len(line.text))

	return s.words, nil
}

// begin starts a word at offset i of the line, unless one is being read.
func (s *wordSplitter) begin(i int) {
	if !s.inWord {
		s.inWord = true
		s.start = s.line.columns[i]
	}
}

// add appends the byte at offset i of the line to the word.
func (s *wordSplitter) add(i int) {
	s.text = append(s.text, s.line.text[i])
	s.columns = append(s.columns, s.line.columns[i])
}

// endWord ends the word being read, if any, at offset i of the line.
func (s *wordSplitter) endWord(i int) {
	if !s.inWord {
		return
	}

	s.words = append(s.words, iniText{
		text:    string(s.text),
		line:    s.line.line,
		start:   s.start,
		columns: append(s.columns, s.line.columns[i]),
	})
	s.text, s.columns, s.inWord = nil, nil, false
}

// quoted reads the quoted part that starts at offset start and returns the offset of its
// closing quote.
func (s *wordSplitter) quoted(start int) (int, *textProblem) {
	text := s.line.text
	quote := text[start]

	for i := start + 1; i < len(text); i++ {
		switch {
		case text[i] == quote:
			return i, nil
		case quote == '"' && text[i] == '\\' && i+1 < len(text) &&
			(text[i+1] == '"' || text[i+1] == '\\'):
			i++
		}
		s.add(i)
	}

	return 0, &textProblem{offset: start, msg: "this quote is never closed; close it, or " +
		"write \\" + string(quote) + " for a quote character"}
}
