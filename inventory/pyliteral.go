package inventory

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Ansible reads each value of an INI inventory with Python's ast.literal_eval and keeps the
// text as a string when that fails. The parser in this file follows the literal syntax of
// Python 3.11, the version of Debian 12, which ships Ansible 2.14.

// maxLiteralDepth is the deepest nesting of brackets in a Python literal. Python 3.11
// rejects a 201st level as a syntax error, so Ansible reads such a value as a string.
const maxLiteralDepth = 200

// literalKind is the Python type of a literal.
type literalKind int

const (
	kindString literalKind = iota
	kindBytes
	kindInt
	kindFloat
	kindComplex
	kindBool
	kindNone
	kindList
	kindTuple
	kindDict
	kindSet
)

// literalForm is the shape of a literal in Python's syntax tree, which decides where
// ast.literal_eval accepts a sign or a complex sum.
type literalForm int

const (
	formConstant  literalForm = iota // a number, string, True, False or None
	formSigned                       // a constant with a unary + or -
	formSum                          // a real number plus or minus an imaginary one
	formContainer                    // a list, tuple, dict or set
)

// literal is a value read from Python literal syntax.
type literal struct {
	kind    literalKind
	form    literalForm
	offset  int      // byte offset of its first character in the text
	text    string   // value of a string
	integer *big.Int // value of an integer, unbounded as in Python
	float   float64  // value of a float
	boolean bool     // value of True or False
	items   []literal
	keys    []literal // keys of a dict, one for each item
}

func (l literal) isNumber() bool {
	return l.kind == kindInt || l.kind == kindFloat || l.kind == kindComplex
}

// textProblem is a problem in a piece of INI text, such as a construct that Python reads
// as a literal but that no value of Host.Vars can hold.
type textProblem struct {
	offset int
	msg    string
}

// literalParser reads Python literal syntax. Any text that ast.literal_eval rejects, it
// rejects too, so that the caller can keep that text as a string as Ansible does.
type literalParser struct {
	text    string
	offset  int
	depth   int
	problem *textProblem // the first unsupported construct, reported only on success
}

// parseLiteral reads text as ast.literal_eval does. It returns false if Python would
// reject the text. A problem is returned for a literal that fleetharden cannot represent.
func parseLiteral(text string) (literal, *textProblem, bool) {
	// Python rejects source code that contains a NUL byte.
	if strings.IndexByte(text, 0) >= 0 {
		return literal{}, nil, false
	}

	p := &literalParser{text: text}
	p.skipSpace()
	value, ok := p.expression()
	p.skipSpace()
	if !ok || p.offset != len(p.text) {
		return literal{}, nil, false
	}

	return value, p.problem, true
}

// unsupported records a problem at offset unless an earlier one is recorded.
func (p *literalParser) unsupported(offset int, msg string) {
	if p.problem == nil {
		p.problem = &textProblem{offset: offset, msg: msg}
	}
}

func (p *literalParser) peek() byte {
	if p.offset < len(p.text) {
		return p.text[p.offset]
	}

	return 0
}

// skipSpace skips the spaces, tabs and form feeds between tokens, and a comment, which
// runs to the end of the text.
func (p *literalParser) skipSpace() {
	for p.offset < len(p.text) {
		switch p.text[p.offset] {
		case ' ', '\t', '\f':
			p.offset++
		case '#':
			p.offset = len(p.text)
		default:
			return
		}
	}
}

// consume skips spaces and then c, reporting whether c was there.
func (p *literalParser) consume(c byte) bool {
	p.skipSpace()
	if p.peek() != c {
		return false
	}
	p.offset++

	return true
}

// expression reads a literal with an optional sign, and the complex sums that
// ast.literal_eval accepts: a real number plus or minus an imaginary constant.
func (p *literalParser) expression() (literal, bool) {
	left, ok := p.signed()
	if !ok {
		return literal{}, false
	}

	start := p.offset
	p.skipSpace()
	if c := p.peek(); c != '+' && c != '-' {
		p.offset = start
		return left, true
	}
	p.offset++
	p.skipSpace()

	right, ok := p.atom()
	isReal := left.kind == kindInt || left.kind == kindFloat
	if !ok || !isReal || left.form > formSigned || right.kind != kindComplex ||
		right.form != formConstant {
		return literal{}, false
	}

	return literal{kind: kindComplex, form: formSum, offset: left.offset}, true
}

// signed reads an atom, with a unary + or - when the atom is a number constant.
func (p *literalParser) signed() (literal, bool) {
	sign := p.peek()
	if sign != '+' && sign != '-' {
		return p.atom()
	}
	start := p.offset
	p.offset++
	p.skipSpace()

	operand, ok := p.atom()
	if !ok || !operand.isNumber() || operand.form != formConstant {
		return literal{}, false
	}
	if sign == '-' {
		operand.integer = negate(operand.integer)
		operand.float = -operand.float
	}
	operand.form = formSigned
	operand.offset = start

	return operand, true
}

func negate(n *big.Int) *big.Int {
	if n == nil {
		return nil
	}

	return new(big.Int).Neg(n)
}

// atom reads a constant, a container or an expression in parentheses.
func (p *literalParser) atom() (literal, bool) {
	c := p.peek()
	switch {
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case c == '\'' || c == '"' || isIdentifierByte(c):
		return p.word()
	case c == '[':
		return p.list()
	case c == '(':
		return p.parenthesized()
	case c == '{':
		return p.braced()
	default:
		return literal{}, false
	}
}

// isIdentifierByte reports whether c can be part of a Python identifier. Every byte of a
// non-ASCII character counts, which is enough to tell where a name ends.
func isIdentifierByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// word reads a string, possibly with a prefix such as r or b, or one of the names that
// ast.literal_eval accepts: True, False, None and the empty set().
func (p *literalParser) word() (literal, bool) {
	start := p.offset
	end := start
	for end < len(p.text) && (isIdentifierByte(p.text[end]) || isDigit(p.text[end])) {
		end++
	}
	name := p.text[start:end]

	if end < len(p.text) && (p.text[end] == '\'' || p.text[end] == '"') {
		return p.stringLiteral()
	}
	p.offset = end

	switch name {
	case "True", "False":
		return literal{kind: kindBool, offset: start, boolean: name == "True"}, true
	case "None":
		return literal{kind: kindNone, offset: start}, true
	case "set":
		if p.consume('(') && p.consume(')') {
			return literal{kind: kindSet, form: formContainer, offset: start}, true
		}
	}

	return literal{}, false
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}

// parenthesized reads a tuple, or a literal in parentheses, which keeps its form.
func (p *literalParser) parenthesized() (literal, bool) {
	tuple := literal{kind: kindTuple, form: formContainer, offset: p.offset}
	if !p.enter() {
		return literal{}, false
	}
	defer p.leave()
	p.offset++

	if p.consume(')') {
		return tuple, true
	}
	p.skipSpace()
	first, ok := p.expression()
	if !ok {
		return literal{}, false
	}
	if p.consume(')') {
		return first, true
	}
	tuple.items = []literal{first}

	return p.moreItems(tuple, ')')
}

// list reads a list.
func (p *literalParser) list() (literal, bool) {
	list := literal{kind: kindList, form: formContainer, offset: p.offset}
	if !p.enter() {
		return literal{}, false
	}
	defer p.leave()
	p.offset++

	if p.consume(']') {
		return list, true
	}
	p.skipSpace()
	first, ok := p.expression()
	if !ok {
		return literal{}, false
	}
	list.items = []literal{first}

	return p.moreItems(list, ']')
}

// moreItems reads the items that follow the first item of a list, tuple or set: each
// after a comma, with an optional trailing comma, up to the closing bracket.
func (p *literalParser) moreItems(result literal, closing byte) (literal, bool) {
	for p.consume(',') {
		if p.consume(closing) {
			return result, true
		}
		p.skipSpace()
		item, ok := p.expression()
		if !ok {
			return literal{}, false
		}
		result.items = append(result.items, item)
	}

	return result, p.consume(closing)
}

// enter counts one more level of brackets and reports whether Python allows it.
func (p *literalParser) enter() bool {
	p.depth++

	return p.depth <= maxLiteralDepth
}

func (p *literalParser) leave() {
	p.depth--
}

// braced reads a dict or a set.
func (p *literalParser) braced() (literal, bool) {
	start := p.offset
	if !p.enter() {
		return literal{}, false
	}
	defer p.leave()
	p.offset++

	if p.consume('}') {
		return literal{kind: kindDict, form: formContainer, offset: start}, true
	}
	p.skipSpace()
	first, ok := p.expression()
	if !ok {
		return literal{}, false
	}
	if p.consume(':') {
		return p.dictItems(start, first)
	}
	set := literal{kind: kindSet, form: formContainer, offset: start, items: []literal{first}}

	return p.moreItems(set, '}')
}

// dictItems reads the rest of a dict whose first key, already read, is key.
func (p *literalParser) dictItems(start int, key literal) (literal, bool) {
	dict := literal{kind: kindDict, form: formContainer, offset: start}

	for {
		p.skipSpace()
		value, ok := p.expression()
		if !ok {
			return literal{}, false
		}
		dict.keys = append(dict.keys, key)
		dict.items = append(dict.items, value)

		if !p.consume(',') {
			return dict, p.consume('}')
		}
		if p.consume('}') {
			return dict, true
		}
		p.skipSpace()
		key, ok = p.expression()
		if !ok || !p.consume(':') {
			return literal{}, false
		}
	}
}

// Python 3.11's number syntax: an integer in one of four bases, or a decimal number with
// an optional fraction, exponent and imaginary suffix. Underscores may separate digits.
var (
	numberPattern = regexp.MustCompile(`^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|` +
		`0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|` +
		`[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?[jJ]?)`)

	// decimalIntegerPattern matches the decimal integers Python allows, which have no
	// leading zeros unless they are zero.
	decimalIntegerPattern = regexp.MustCompile(`^(?:[1-9](?:_?[0-9])*|0+(?:_?0)*)$`)
)

// number reads an integer, a float or an imaginary number.
func (p *literalParser) number() (literal, bool) {
	start := p.offset
	text := numberPattern.FindString(p.text[start:])
	end := start + len(text)
	// A name or a second point right after a number is a syntax error, or an attribute
	// access, which ast.literal_eval rejects too.
	if text == "" || end < len(p.text) && (isIdentifierByte(p.text[end]) ||
		isDigit(p.text[end]) || p.text[end] == '.') {
		return literal{}, false
	}
	p.offset = end

	digits := strings.ReplaceAll(text, "_", "")
	lower := strings.ToLower(digits)
	switch {
	case strings.HasSuffix(lower, "j"):
		return literal{kind: kindComplex, offset: start}, true
	case strings.HasPrefix(lower, "0x"):
		return p.integer(start, digits[2:], 16)
	case strings.HasPrefix(lower, "0o"):
		return p.integer(start, digits[2:], 8)
	case strings.HasPrefix(lower, "0b"):
		return p.integer(start, digits[2:], 2)
	case strings.ContainsAny(lower, ".e"):
		// The pattern leaves ParseFloat only one error: ErrRange for a number past the
		// largest float64, returned with an infinity, which is Python's value too.
		value, _ := strconv.ParseFloat(digits, 64)
		return literal{kind: kindFloat, offset: start, float: value}, true
	case !decimalIntegerPattern.MatchString(text):
		return literal{}, false
	default:
		return p.integer(start, digits, 10)
	}
}

func (p *literalParser) integer(start int, digits string, base int) (literal, bool) {
	value, ok := new(big.Int).SetString(digits, base)

	return literal{kind: kindInt, offset: start, integer: value}, ok
}

// stringLiteral reads one or more adjacent string literals, which Python joins into one.
func (p *literalParser) stringLiteral() (literal, bool) {
	result := literal{kind: kindString, offset: p.offset}
	var text strings.Builder

	for first := true; ; first = false {
		part, isBytes, ok := p.stringPart()
		// Python does not join bytes to text.
		if !ok || !first && isBytes != (result.kind == kindBytes) {
			return literal{}, false
		}
		if isBytes {
			result.kind = kindBytes
		}
		text.WriteString(part)

		end := p.offset
		p.skipSpace()
		if !p.atStringStart() {
			p.offset = end
			break
		}
	}
	result.text = text.String()

	return result, true
}

// atStringStart reports whether a string literal, possibly with a prefix, starts at the
// offset.
func (p *literalParser) atStringStart() bool {
	end := p.offset
	for end < len(p.text) && isIdentifierByte(p.text[end]) {
		end++
	}

	return end < len(p.text) && (p.text[end] == '\'' || p.text[end] == '"')
}

// stringPart reads one string literal with its prefix, and returns its value and whether
// it is a bytes literal.
func (p *literalParser) stringPart() (string, bool, bool) {
	prefixEnd := p.offset
	for isIdentifierByte(p.text[prefixEnd]) {
		prefixEnd++
	}

	raw, isBytes := false, false
	switch strings.ToLower(p.text[p.offset:prefixEnd]) {
	case "", "u":
	case "r":
		raw = true
	case "b":
		isBytes = true
	case "br", "rb":
		raw, isBytes = true, true
	default:
		// An f-string is not a literal, and other prefixes are syntax errors.
		return "", false, false
	}
	p.offset = prefixEnd

	body, bodyOffset, ok := p.stringBody()
	switch {
	case !ok:
		return "", false, false
	case isBytes:
		return "", true, p.checkBytes(body, raw)
	case raw:
		return body, false, true
	default:
		value, ok := p.unescape(body, bodyOffset)
		return value, false, ok
	}
}

// stringBody reads a quoted string, in single or triple quotes, and returns the text
// between the quotes with its offset.
func (p *literalParser) stringBody() (string, int, bool) {
	quote := p.text[p.offset : p.offset+1]
	if strings.HasPrefix(p.text[p.offset:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	p.offset += len(quote)
	start := p.offset

	for p.offset < len(p.text) {
		if strings.HasPrefix(p.text[p.offset:], quote) {
			body := p.text[start:p.offset]
			p.offset += len(quote)
			return body, start, true
		}
		// A backslash keeps the next character from ending the string, in raw strings
		// too.
		if p.text[p.offset] == '\\' {
			p.offset++
		}
		p.offset++
	}

	return "", 0, false
}

// checkBytes reports whether body is valid in a bytes literal: ASCII only, with \x
// followed by two hexadecimal digits unless the literal is raw.
func (p *literalParser) checkBytes(body string, raw bool) bool {
	for i := 0; i < len(body); i++ {
		if body[i] >= 0x80 {
			return false
		}
		if !raw && body[i] == '\\' && i+1 < len(body) {
			i++
			if body[i] == 'x' && !isHexDigits(body[i+1:], 2) {
				return false
			}
		}
	}

	return true
}

func isHexDigits(text string, count int) bool {
	if len(text) < count {
		return false
	}
	_, err := strconv.ParseUint(text[:count], 16, 32)

	return err == nil && !strings.ContainsAny(text[:count], "+-_")
}

// simpleEscapes maps the letters of Python's one-letter escapes to their characters.
var simpleEscapes = map[byte]string{
	'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n",
	'r': "\r", 't': "\t", 'v': "\v",
}

// unescape decodes the escapes of a Python string literal whose body starts at offset.
// It returns false for an escape that is a syntax error in Python.
func (p *literalParser) unescape(body string, offset int) (string, bool) {
	var text strings.Builder

	for i := 0; i < len(body); i++ {
		if body[i] != '\\' || i+1 == len(body) {
			text.WriteByte(body[i])
			continue
		}
		size, ok := p.writeEscape(&text, body[i:], offset+i)
		if !ok {
			return "", false
		}
		i += size - 1
	}

	return text.String(), true
}

// writeEscape writes the character of the escape at the start of text, which starts with
// a backslash, and returns the length of the escape.
func (p *literalParser) writeEscape(out *strings.Builder, text string, offset int) (int, bool) {
	letter := text[1]
	if value, ok := simpleEscapes[letter]; ok {
		out.WriteString(value)
		return 2, true
	}

	switch letter {
	case 'x':
		return p.writeCodePoint(out, text, offset, 2)
	case 'u':
		return p.writeCodePoint(out, text, offset, 4)
	case 'U':
		return p.writeCodePoint(out, text, offset, 8)
	case 'N':
		end := strings.IndexByte(text, '}')
		if !strings.HasPrefix(text[2:], "{") || end < 0 {
			return 0, false
		}
		p.unsupported(offset, `\N{...} escapes are not supported; write the character `+
			`itself or its \u escape`)
		return end + 1, true
	}

	if letter >= '0' && letter <= '7' {
		size := 2
		for size < 4 && size < len(text) && text[size] >= '0' && text[size] <= '7' {
			size++
		}
		value, _ := strconv.ParseUint(text[1:size], 8, 32)
		out.WriteRune(rune(value))
		return size, true
	}

	// Python keeps an unknown escape as it is, backslash included.
	out.WriteByte('\\')
	return 1, true
}

// writeCodePoint writes the character of an escape with digits hexadecimal digits.
func (p *literalParser) writeCodePoint(out *strings.Builder, text string, offset,
	digits int) (int, bool) {
	if !isHexDigits(text[2:], digits) {
		return 0, false
	}
	value, _ := strconv.ParseUint(text[2:2+digits], 16, 32)

	switch {
	case value > unicode.MaxRune:
		return 0, false
	case value >= 0xD800 && value <= 0xDFFF:
		p.unsupported(offset, fmt.Sprintf(`\%s is a UTF-16 surrogate, which is not a `+
			"character on its own; write the character it is part of", text[1:2+digits]))
	default:
		out.WriteRune(rune(value))
	}

	return 2 + digits, true
}
