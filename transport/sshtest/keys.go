package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// NewClientKey writes a fresh ed25519 private key in OpenSSH format to a
// file in a new temporary directory of tb, encrypted with passphrase unless
// it is nil, and returns the file's path and the public key.
func NewClientKey(tb testing.TB, passphrase []byte) (string, ssh.PublicKey) {
	tb.Helper()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("generate client key: %v", err)
	}

	var block *pem.Block
	if passphrase == nil {
		block, err = ssh.MarshalPrivateKey(priv, "sshtest")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "sshtest", passphrase)
	}
	if err != nil {
		tb.Fatalf("encode client key: %v", err)
	}

	path := filepath.Join(tb.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatalf("write client key: %v", err)
	}

	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		tb.Fatalf("wrap client public key: %v", err)
	}
	return path, sshPub
}
