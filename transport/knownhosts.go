package transport

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHosts checks host keys against an OpenSSH known_hosts file and, when
// allowed, appends the keys of hosts it has not seen. It is safe for
// concurrent use, and one value is shared by every Dial of a run.
type KnownHosts struct {
	path      string
	acceptNew bool

	// check is the parsed file, or nil when the file did not exist at load.
	check ssh.HostKeyCallback

	mu       sync.Mutex
	accepted map[string]knownhosts.KnownKey // keys appended in this run, by host
	lines    int                            // lines in the file
	trailing bool                           // the file ends without a newline
}

// LoadKnownHosts parses the known_hosts file at path. A missing file is an
// empty database. With acceptNew, Callback appends the key of every unknown
// host to the file, creating it with mode 0600, and its directory with mode
// 0700, when missing.
func LoadKnownHosts(path string, acceptNew bool) (*KnownHosts, error) {
	k := &KnownHosts{
		path:      path,
		acceptNew: acceptNew,
		accepted:  make(map[string]knownhosts.KnownKey),
	}

	content, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}

	k.check, err = knownhosts.New(path)
	if err != nil {
		return nil, fmt.Errorf("parse known_hosts %s: %w", path, err)
	}

	k.lines = bytes.Count(content, []byte("\n"))
	if len(content) > 0 && content[len(content)-1] != '\n' {
		k.lines++
		k.trailing = true
	}

	return k, nil
}

// Path returns the path of the known_hosts file.
func (k *KnownHosts) Path() string {
	return k.path
}

// Callback checks the key that hostname presents; it is an
// ssh.HostKeyCallback. An unknown host is rejected with ErrHostKeyUnknown,
// unless new keys are accepted, in which case its key is appended to the
// file. A key that differs from a recorded one, or a revoked key, is always
// rejected with ErrHostKeyChanged.
func (k *KnownHosts) Callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	host := knownhosts.Normalize(hostname)

	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	err := k.checkFile(hostname, remote, key)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &revoked):
		return fmt.Errorf("%w: %s presented %s, which %s:%d marks as revoked",
			ErrHostKeyChanged, host, describeKey(key), revoked.Revoked.Filename,
			revoked.Revoked.Line)
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return k.changedError(host, key, keyErr.Want)
	case errors.As(err, &keyErr):
		return k.checkUnknown(host, key)
	default:
		return fmt.Errorf("check host key of %s: %w", host, err)
	}
}

// checkFile checks the key against the file as it was at load.
func (k *KnownHosts) checkFile(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if k.check == nil {
		return &knownhosts.KeyError{}
	}

	return k.check(hostname, remote, key)
}

// checkUnknown handles a host that the file does not list: it may have been
// accepted earlier in this run, or may be accepted now.
func (k *KnownHosts) checkUnknown(host string, key ssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()

	if known, ok := k.accepted[host]; ok {
		if bytes.Equal(known.Key.Marshal(), key.Marshal()) {
			return nil
		}
		return k.changedError(host, key, []knownhosts.KnownKey{known})
	}

	if !k.acceptNew {
		return fmt.Errorf("%w: %s presented %s; check the fingerprint, then rerun with "+
			"--accept-new-host-keys to add it to %s", ErrHostKeyUnknown, host,
			describeKey(key), k.path)
	}

	line, err := k.appendLocked(host, key)
	if err != nil {
		return fmt.Errorf("add host key of %s: %w", host, err)
	}

	k.accepted[host] = knownhosts.KnownKey{Key: key, Filename: k.path, Line: line}
	return nil
}

// appendLocked appends a line for host to the file and returns its line
// number. The caller holds k.mu.
func (k *KnownHosts) appendLocked(host string, key ssh.PublicKey) (int, error) {
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return 0, fmt.Errorf("create known_hosts directory: %w", err)
	}

	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("open known_hosts: %w", err)
	}

	line := knownhosts.Line([]string{host}, key) + "\n"
	if k.trailing {
		line = "\n" + line
	}

	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: %w", k.path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", k.path, err)
	}

	k.trailing = false
	k.lines++
	return k.lines, nil
}

// changedError describes a key that differs from the recorded ones.
func (k *KnownHosts) changedError(host string, key ssh.PublicKey,
	known []knownhosts.KnownKey) error {
	records := make([]string, 0, len(known))
	for _, kk := range known {
		records = append(records, fmt.Sprintf("%s:%d has %s", kk.Filename, kk.Line,
			describeKey(kk.Key)))
	}

	return fmt.Errorf("%w: %s presented %s, but %s; this can be an attack, and if the "+
		"host was reinstalled, remove the old line with ssh-keygen -f %s -R '%s'",
		ErrHostKeyChanged, host, describeKey(key), strings.Join(records, " and "),
		shellQuote(k.path), host)
}

// algorithms returns the host key algorithms that match the keys recorded
// for hostname, or nil when none are recorded. Offering only these makes
// the server present a key that can be checked, instead of a key of another
// type that would look like a changed key.
func (k *KnownHosts) algorithms(hostname string) []string {
	var known []ssh.PublicKey
	var keyErr *knownhosts.KeyError
	err := k.checkFile(hostname, placeholderAddr, placeholderKey())
	if errors.As(err, &keyErr) {
		for _, kk := range keyErr.Want {
			known = append(known, kk.Key)
		}
	}

	k.mu.Lock()
	if kk, ok := k.accepted[knownhosts.Normalize(hostname)]; ok {
		known = append(known, kk.Key)
	}
	k.mu.Unlock()

	return algorithmsForKeys(known)
}

// algorithmsForKeys lists the signature algorithms for keys, without
// duplicates, fastest to verify first, as OpenSSH also prefers them. RSA
// keys offer SHA-2 signatures before ssh-rsa, which OpenSSH 8.8 and later
// reject by default.
func algorithmsForKeys(keys []ssh.PublicKey) []string {
	var algos []string
	for _, key := range keys {
		names := []string{key.Type()}
		if key.Type() == ssh.KeyAlgoRSA {
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}

		for _, name := range names {
			if !slices.Contains(algos, name) {
				algos = append(algos, name)
			}
		}
	}

	slices.SortStableFunc(algos, func(a, b string) int {
		return algorithmRank(a) - algorithmRank(b)
	})
	return algos
}

// algorithmRank orders host key algorithms: Ed25519, then ECDSA, then RSA,
// then anything else.
func algorithmRank(algo string) int {
	switch {
	case algo == ssh.KeyAlgoED25519:
		return 0
	case strings.HasPrefix(algo, "ecdsa-"):
		return 1
	case strings.HasPrefix(algo, "rsa-") || algo == ssh.KeyAlgoRSA:
		return 2
	default:
		return 3
	}
}

// placeholderAddr stands for the remote address when only the hostname is
// looked up.
var placeholderAddr = &net.TCPAddr{IP: net.IPv4zero}

// placeholderKey is a key that no host has, so a lookup with it returns
// every key recorded for the host.
var placeholderKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("generate placeholder key: %v", err))
	}

	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(fmt.Sprintf("wrap placeholder key: %v", err))
	}
	return key
})

// describeKey returns the key type and SHA256 fingerprint, as ssh-keygen -l
// shows them.
func describeKey(key ssh.PublicKey) string {
	return key.Type() + " " + ssh.FingerprintSHA256(key)
}
