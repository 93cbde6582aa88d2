package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Limits on host ranges, which stop a typo such as web[1:1000000] from producing a
// million hosts.
const (
	maxRangeHosts     = 10_000  // host names that one host key may expand to
	maxFileRangeHosts = 100_000 // host names that all host keys of a file may expand to
)

// errTooManyHosts is returned when host ranges expand past the limit given.
var errTooManyHosts = errors.New("too many hosts")

// rangeLetters are the letters a letter range runs through, in Ansible's order.
const rangeLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

var (
	// bracketedHostPortPattern matches "[host]:port", the form that gives an IPv6 address
	// a port.
	bracketedHostPortPattern = regexp.MustCompile(`^\[([^\]]+)\]:([0-9]+)$`)

	// hostPortPattern matches "host:port". It applies only to keys with a single colon
	// outside brackets, because a bare IPv6 address has several.
	hostPortPattern = regexp.MustCompile(`^(.+):([0-9]+)$`)

	// bracketedPattern matches the bracketed parts of a host key, to count the colons
	// outside them.
	bracketedPattern = regexp.MustCompile(`\[[^\]]*\]`)
)

// expandHostKey reads a host key of an Ansible inventory as Ansible does: an optional
// ":port" suffix, then ranges such as web[01:20] or db-[a:c] that expand to at most limit
// names. It returns the host names and the port, 0 if the key names none. The error is
// errTooManyHosts if the ranges expand past limit.
func expandHostKey(key string, limit int) ([]string, int, error) {
	pattern, portText := splitHostPort(key)

	port := 0
	if portText != "" {
		number, err := strconv.Atoi(portText)
		if err != nil || number < 1 || number > 65535 {
			return nil, 0, fmt.Errorf("the port %s must be an integer from 1 to 65535",
				portText)
		}
		port = number
	}

	names, err := expandRanges(pattern, limit)

	return names, port, err
}

// splitHostPort splits a host key into the host pattern and the port text, "" if the key
// names no port.
func splitHostPort(key string) (string, string) {
	if m := bracketedHostPortPattern.FindStringSubmatch(key); m != nil {
		return m[1], m[2]
	}

	outside := bracketedPattern.ReplaceAllString(key, "")
	if strings.Count(outside, ":") == 1 {
		if m := hostPortPattern.FindStringSubmatch(key); m != nil {
			return m[1], m[2]
		}
	}

	return key, ""
}

// expandRanges expands every [begin:end] or [begin:end:step] range in pattern, leftmost
// first, into at most limit names.
func expandRanges(pattern string, limit int) ([]string, error) {
	start := strings.IndexByte(pattern, '[')
	if start < 0 {
		return []string{pattern}, nil
	}
	length := strings.IndexByte(pattern[start:], ']')
	if length < 0 {
		return nil, errors.New("the '[' of a host range has no matching ']'")
	}
	head, spec, tail := pattern[:start], pattern[start+1:start+length], pattern[start+length+1:]

	values, err := rangeValues(spec, limit)
	if err != nil {
		return nil, err
	}

	var names []string
	for _, value := range values {
		expanded, err := expandRanges(head+value+tail, limit-len(names))
		if err != nil {
			return nil, err
		}
		names = append(names, expanded...)
		if len(names) > limit {
			return nil, errTooManyHosts
		}
	}

	return names, nil
}

// rangeValues returns the values of one host range, spec being the text between the
// brackets. Unlike Ansible, which expands a numeric range whose begin is after its end to
// nothing, it reports that range as an error.
func rangeValues(spec string, limit int) ([]string, error) {
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("invalid host range [%s]: write [begin:end] or "+
			"[begin:end:step]", spec)
	}

	step := 1
	if len(bounds) == 3 {
		number, err := strconv.Atoi(bounds[2])
		if err != nil || number < 1 || !digitsPattern.MatchString(bounds[2]) {
			return nil, fmt.Errorf("invalid host range [%s]: the step must be a positive "+
				"integer", spec)
		}
		step = number
	}

	begin, end := bounds[0], bounds[1]
	if begin == "" {
		begin = "0"
	}
	if len(begin) == 1 && len(end) == 1 && strings.Contains(rangeLetters, begin) &&
		strings.Contains(rangeLetters, end) {
		return letterRange(spec, begin, end, step)
	}

	return numberRange(spec, begin, end, step, limit)
}

func letterRange(spec, begin, end string, step int) ([]string, error) {
	first, last := strings.Index(rangeLetters, begin), strings.Index(rangeLetters, end)
	if first > last {
		return nil, fmt.Errorf("invalid host range [%s]: %s comes after %s", spec, begin, end)
	}

	var values []string
	for i := 0; i <= (last-first)/step; i++ {
		letter := first + i*step
		values = append(values, rangeLetters[letter:letter+1])
	}

	return values, nil
}

func numberRange(spec, begin, end string, step, limit int) ([]string, error) {
	first, errFirst := strconv.Atoi(begin)
	last, errLast := strconv.Atoi(end)
	if !digitsPattern.MatchString(begin) || !digitsPattern.MatchString(end) ||
		errFirst != nil || errLast != nil {
		return nil, fmt.Errorf("invalid host range [%s]: it must run between two "+
			"non-negative integers or two letters", spec)
	}
	if first > last {
		return nil, fmt.Errorf("invalid host range [%s]: %s is greater than %s",
			spec, begin, end)
	}

	// A leading zero means zero-padded names, such as web01 to web10.
	width := 0
	if len(begin) > 1 && begin[0] == '0' {
		if len(begin) != len(end) {
			return nil, fmt.Errorf("invalid host range [%s]: a zero-padded range needs a "+
				"begin and an end of the same length", spec)
		}
		width = len(begin)
	}
	if (last-first)/step >= limit {
		return nil, errTooManyHosts
	}

	// Counting steps, rather than adding step to a value, cannot overflow near the
	// largest int.
	var values []string
	for i := 0; i <= (last-first)/step; i++ {
		values = append(values, fmt.Sprintf("%0*d", width, first+i*step))
	}

	return values, nil
}
