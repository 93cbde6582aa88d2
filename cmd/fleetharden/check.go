package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fleetharden/fleetharden/internal/inputfile"
	"github.com/fleetharden/fleetharden/inventory"
)

// checkKeyFiles makes sure every key file the inventory names is a private key, so a typo
// fails the run before any host is contacted rather than as an authentication failure on
// every host. Encrypted keys pass: their passphrase is asked later, once.
func checkKeyFiles(hosts []*inventory.Host) error {
	checked := map[string]error{}
	var errs []error
	for _, h := range hosts {
		if h.KeyFile == "" {
			continue
		}
		err, seen := checked[h.KeyFile]
		if !seen {
			err = checkKeyFile(h.KeyFile)
			checked[h.KeyFile] = err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: host %s: key %s: %w", h.Pos, h.Name, h.KeyFile, err))
		}
	}
	return errors.Join(errs...)
}

func checkKeyFile(path string) error {
	data, err := inputfile.Read(path)
	if err != nil {
		return err
	}
	_, err = ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("not a private key (%v): name an OpenSSH or PEM private key", err)
	}
	return nil
}

// checkOutputPath fails early when a results file cannot be written, so a run is not
// lost for a typo in the directory. "" and "-" need no check.
func checkOutputPath(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w: create the directory first", flag, path, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s %s: %s is not a directory", flag, path, dir)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("%s %s: it is a directory: name a file, such as %s", flag, path,
			filepath.Join(path, flagExample(flag)))
	}
	return nil
}

// flagExample returns a file name of the kind an output flag writes.
func flagExample(flag string) string {
	if flag == "--junit" {
		return "results.xml"
	}
	return "results.json"
}

// checkPositive rejects a zero or negative duration flag.
func checkPositive(flag string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("invalid %s %s: use a positive duration such as 30s", flag, d)
	}
	return nil
}
