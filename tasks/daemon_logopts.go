package tasks

import (
	"fmt"
	"strconv"
	"strings"
)

// logOptKeys are the log-opts keys that the json-file and local drivers accept, from
// moby's daemon/logger packages. mode and max-buffer-size are read by every driver.
// dockerd rejects any other key for these two drivers, so every container fails to start.
var logOptKeys = map[string]bool{
	"max-size": true, "max-file": true, "compress": true,
	"labels": true, "labels-regex": true, "env": true, "env-regex": true, "tag": true,
	"mode": true, "max-buffer-size": true,
}

// defaultLogDriver is the log driver of dockerd without a log-driver setting.
const defaultLogDriver = "json-file"

// effectiveLogDriver returns the log driver that dockerd would use with doc and the
// flags of cl.
func effectiveLogDriver(doc map[string]any, cl *daemonCommandLine) string {
	if driver, ok := doc["log-driver"].(string); ok {
		return driver
	}
	if flags := cl.flagsFor("log-driver"); len(flags) > 0 {
		return flags[len(flags)-1].Value
	}
	return defaultLogDriver
}

// checkLogOpts checks the log-opts of the json-file and local drivers, whose values
// dockerd parses only when a container starts: a daemon restarted with a bad value looks
// healthy, but every docker run fails. The options of other drivers, plugins included,
// are left free-form. Rules that tie several keys together are checked only when
// complete is set.
func checkLogOpts(driver string, opts map[string]any, complete bool) error {
	if driver != "json-file" && driver != "local" {
		return nil
	}
	for _, key := range sortedKeys(opts) {
		value, _ := opts[key].(string)
		if err := checkLogOpt(driver, key, value); err != nil {
			return err
		}
	}
	if !complete {
		return nil
	}
	return checkLogOptCombination(driver, opts)
}

// checkLogOpt checks one option on its own.
func checkLogOpt(driver, key, value string) error {
	if !logOptKeys[key] {
		return fmt.Errorf("unknown log option %q for the %s log driver: use %s", key,
			driver, strings.Join(sortedKeys(logOptKeys), ", "))
	}

	switch key {
	case "max-size":
		return checkMaxSize(driver, value)
	case "max-file":
		return checkMaxFile(driver, value)
	case "compress":
		if _, err := strconv.ParseBool(value); err != nil {
			return fmt.Errorf("invalid compress %q: use true or false", value)
		}
	case "mode":
		if value != "" && value != "blocking" && value != "non-blocking" {
			return fmt.Errorf("invalid mode %q: use blocking or non-blocking", value)
		}
	case "max-buffer-size":
		if !sizeRE.MatchString(value) {
			return fmt.Errorf("invalid max-buffer-size %q: use a size such as 4m", value)
		}
	}
	return nil
}

// checkMaxSize checks a log file size. json-file also rejects a size of 0 bytes.
func checkMaxSize(driver, value string) error {
	bytes, ok := parseDecimalSize(value)
	if !ok || (driver == "json-file" && bytes < 1) {
		return fmt.Errorf("invalid max-size %q: use a positive number of bytes with an "+
			"optional unit k, m or g, such as 10m", value)
	}
	return nil
}

// checkMaxFile checks a number of log files: at least 1 for json-file, at least 0 for
// local.
func checkMaxFile(driver, value string) error {
	n, err := strconv.Atoi(value)
	least := 1
	if driver == "local" {
		least = 0
	}
	if err != nil || n < least {
		return fmt.Errorf("invalid max-file %q: use an integer of at least %d, such as 3",
			value, least)
	}
	return nil
}

// checkLogOptCombination checks the rules between options that dockerd applies when it
// creates a container's logger.
func checkLogOptCombination(driver string, opts map[string]any) error {
	mode, _ := opts["mode"].(string)
	if _, set := opts["max-buffer-size"]; set && mode != "non-blocking" {
		return fmt.Errorf("max-buffer-size needs mode non-blocking: set mode or remove " +
			"max-buffer-size")
	}

	// json-file keeps 1 file and does not compress by default; local keeps 5 and
	// compresses.
	maxFile, _ := opts["max-file"].(string)
	files, compress := 1, driver == "local"
	if driver == "local" {
		files = 5
	}
	if maxFile != "" {
		files, _ = strconv.Atoi(maxFile)
	}
	if text, ok := opts["compress"].(string); ok {
		compress, _ = strconv.ParseBool(text)
	}
	_, hasSize := opts["max-size"]

	switch {
	case driver == "json-file" && compress && (files < 2 || !hasSize):
		return fmt.Errorf("compress true needs max-file of at least 2 and max-size " +
			"for the json-file log driver")
	case driver == "local" && compress && files < 2:
		return fmt.Errorf("max-file %q needs compress false for the local log driver, "+
			"which compresses rotated files by default", maxFile)
	}
	return nil
}

// parseDecimalSize parses a size the way go-units FromHumanSize does, with decimal units:
// "123", "10m", "1.5GB" or "100 k". It returns the number of bytes, rounded down.
func parseDecimalSize(s string) (int64, bool) {
	if !sizeRE.MatchString(s) {
		return 0, false
	}
	end := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if end < 0 {
		end = len(s)
	}
	number, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0, false
	}

	multiplier := 1.0
	if unit := strings.TrimSpace(s[end:]); unit != "" {
		exponent := strings.IndexByte("kmgtp", asciiLower(unit[0])) + 1
		for range exponent {
			multiplier *= 1000
		}
	}
	return int64(number * multiplier), true
}

// asciiLower returns the ASCII lower case of c.
func asciiLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
