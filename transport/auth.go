package transport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Passphrases prompts for the passphrases of encrypted private keys and
// caches them, and the keys they decrypt, for the rest of the run. One value
// is shared by every Dial of a run, so each key file is prompted for and
// decrypted at most once however many hosts use it. It is safe for
// concurrent use.
type Passphrases struct {
	prompt func(keyFile string) ([]byte, error)

	// promptMu is held while prompting, so prompts never interleave.
	promptMu sync.Mutex
	answers  map[string]passphraseAnswer

	signerMu sync.Mutex
	signers  map[string]signerResult
}

type passphraseAnswer struct {
	passphrase []byte
	err        error
}

type signerResult struct {
	signer ssh.Signer
	err    error
}

// NewPassphrases returns a cache that calls prompt the first time the
// passphrase of a key file is needed. A nil prompt, like the zero
// Passphrases, makes every encrypted key an error.
func NewPassphrases(prompt func(keyFile string) ([]byte, error)) *Passphrases {
	return &Passphrases{
		prompt:  prompt,
		answers: make(map[string]passphraseAnswer),
		signers: make(map[string]signerResult),
	}
}

// Get returns the passphrase of keyFile, prompting for it on the first call
// and returning the cached answer, or the cached prompt error, afterwards.
func (p *Passphrases) Get(keyFile string) ([]byte, error) {
	p.promptMu.Lock()
	defer p.promptMu.Unlock()

	if a, ok := p.answers[keyFile]; ok {
		return a.passphrase, a.err
	}
	if p.answers == nil {
		p.answers = make(map[string]passphraseAnswer)
	}

	if p.prompt == nil {
		return nil, fmt.Errorf("key %s is encrypted and no passphrase prompt is set", keyFile)
	}

	passphrase, err := p.prompt(keyFile)
	if err != nil {
		err = fmt.Errorf("read passphrase for key %s: %w", keyFile, err)
	}

	p.answers[keyFile] = passphraseAnswer{passphrase: passphrase, err: err}
	return passphrase, err
}

// signer returns the parsed key of keyFile, parsing and decrypting it on the
// first call only.
func (p *Passphrases) signer(keyFile string) (ssh.Signer, error) {
	p.signerMu.Lock()
	defer p.signerMu.Unlock()

	if r, ok := p.signers[keyFile]; ok {
		return r.signer, r.err
	}
	if p.signers == nil {
		p.signers = make(map[string]signerResult)
	}

	signer, err := loadSigner(keyFile, p)
	p.signers[keyFile] = signerResult{signer: signer, err: err}
	return signer, err
}

// loadSigner reads and parses the private key in keyFile. An encrypted key
// is decrypted with the passphrase from p.
func loadSigner(keyFile string, p *Passphrases) (ssh.Signer, error) {
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read identity file: %w", err)
	}

	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("parse identity file %s: %w", keyFile, err)
		}
		return signer, nil
	}

	if p == nil {
		return nil, fmt.Errorf("identity file %s is encrypted and no passphrase prompt is set",
			keyFile)
	}

	passphrase, err := p.Get(keyFile)
	if err != nil {
		return nil, err
	}

	signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, passphrase)
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, fmt.Errorf("decrypt identity file %s: incorrect passphrase", keyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt identity file %s: %w", keyFile, err)
	}

	return signer, nil
}

// credentials are the keys Dial offers, collected before the connect
// timeout starts so that a passphrase prompt does not eat into it.
type credentials struct {
	signers []ssh.Signer
	tried   []string // descriptions of the key sources, for auth errors
	agent   net.Conn // nil without an agent
}

// list returns the signers; it is an ssh.PublicKeysCallback.
func (cr *credentials) list() ([]ssh.Signer, error) {
	return cr.signers, nil
}

// close releases the agent connection.
func (cr *credentials) close() {
	if cr.agent != nil {
		cr.agent.Close()
	}
}

// describe lists the key sources for an authentication error.
func (cr *credentials) describe() string {
	if len(cr.tried) == 0 {
		return "no keys were available"
	}

	return "tried " + strings.Join(cr.tried, ", ")
}

// loadCredentials loads the identity files of cfg in order, then the keys
// of ssh-agent when cfg.Agent is set and SSH_AUTH_SOCK names a socket.
func loadCredentials(cfg *Config) (*credentials, error) {
	cr := &credentials{}
	for _, file := range cfg.IdentityFiles {
		signer, err := identitySigner(file, cfg.Passphrases)
		if err != nil {
			return nil, fmt.Errorf("load key for %s: %w: %w", cfg.Name, ErrAuth, err)
		}

		cr.signers = append(cr.signers, signer)
		cr.tried = append(cr.tried, "publickey "+file)
	}

	if cfg.Agent {
		cr.addAgent(os.Getenv("SSH_AUTH_SOCK"))
	}

	return cr, nil
}

// identitySigner loads keyFile through the run's cache when there is one.
func identitySigner(keyFile string, p *Passphrases) (ssh.Signer, error) {
	if p == nil {
		return loadSigner(keyFile, nil)
	}

	return p.signer(keyFile)
}

// addAgent adds the keys of the agent listening on socket, SSH_AUTH_SOCK, or
// on Windows the OpenSSH agent's named pipe when it is empty. An unusable agent
// is not an error, because the identity files may still succeed; the auth
// error then names the reason.
func (cr *credentials) addAgent(socket string) {
	network, address := agentAddress(runtime.GOOS, socket)
	if address == "" {
		cr.tried = append(cr.tried, "ssh-agent (SSH_AUTH_SOCK is not set)")
		return
	}

	conn, err := dialAgent(network, address)
	if err != nil {
		cr.tried = append(cr.tried, fmt.Sprintf("ssh-agent (unavailable: %v)", err))
		return
	}

	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		cr.tried = append(cr.tried, fmt.Sprintf("ssh-agent (list keys: %v)", err))
		return
	}

	cr.agent = conn
	cr.signers = append(cr.signers, signers...)
	cr.tried = append(cr.tried, fmt.Sprintf("ssh-agent (%d keys)", len(signers)))
}
