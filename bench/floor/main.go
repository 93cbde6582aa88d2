// Command floor measures the least time any SSH tool needs on a fleet: it connects to
// every host at once with golang.org/x/crypto/ssh, checks the host key, logs in with one
// private key, runs one command and closes the connection. bench/run.sh divides
// fleetharden's wall time by the floor's to show how close fleetharden comes to that limit.
//
// Usage:
//
//	floor -targets FILE -user USER -key FILE -known-hosts FILE [-command CMD] [-timeout D]
//
// FILE lists one host per line as "ADDRESS PORT". The command prints one summary line on
// standard output and each failure on standard error, and exits with status 1 when a host
// failed.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fleetharden/fleetharden/transport"
)

// options are the command-line settings.
type options struct {
	targets    string
	user       string
	key        string
	knownHosts string
	command    string
	timeout    time.Duration
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}

	targets, err := readTargets(opts.targets)
	if err != nil {
		return err
	}
	config, err := clientConfig(opts)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()

	start := time.Now()
	errs := runAll(ctx, targets, config, opts.command)
	return summarize(len(targets), errs, time.Since(start))
}

func parseFlags(args []string) (*options, error) {
	opts := &options{}
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.StringVar(&opts.targets, "targets", "", `file of hosts, one "ADDRESS PORT" a line`)
	fs.StringVar(&opts.user, "user", "", "login user on every host")
	fs.StringVar(&opts.key, "key", "", "unencrypted private key file")
	fs.StringVar(&opts.knownHosts, "known-hosts", "", "OpenSSH known_hosts file")
	fs.StringVar(&opts.command, "command", "true", "command to run on every host")
	fs.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "time limit for the whole run")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if opts.targets == "" || opts.user == "" || opts.key == "" || opts.knownHosts == "" {
		return nil, errors.New("-targets, -user, -key and -known-hosts are required")
	}
	return opts, nil
}

// readTargets returns the host:port addresses listed in file.
func readTargets(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read targets: %w", err)
	}
	defer f.Close()

	var addrs []string
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("read targets %s:%d: want ADDRESS PORT, got %q",
				file, line, scanner.Text())
		}
		addrs = append(addrs, net.JoinHostPort(fields[0], fields[1]))
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read targets %s: %w", file, err)
	}
	return addrs, nil
}

// clientConfig returns the SSH client settings shared by every connection.
func clientConfig(opts *options) (*ssh.ClientConfig, error) {
	pem, err := os.ReadFile(opts.key)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", opts.key, err)
	}
	hostKeys, err := knownhosts.New(opts.knownHosts)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}

	return &ssh.ClientConfig{
		User:            opts.user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         30 * time.Second,
	}, nil
}

// runAll runs command on every target at once and returns one error per failed host.
func runAll(ctx context.Context, targets []string, config *ssh.ClientConfig,
	command string) []error {
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, addr := range targets {
		wg.Go(func() {
			errs[i] = runOne(ctx, addr, config, command)
		})
	}
	wg.Wait()
	return errs
}

// runOne connects to addr, runs command and closes the connection. ctx ending closes the
// connection, which fails whatever step is under way.
func runOne(ctx context.Context, addr string, config *ssh.ClientConfig, command string) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	// The same socket option as fleetharden's, so that neither pays the delayed
	// acknowledgement stall of the first session that the other avoids.
	conn = transport.QuickAck(conn)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	sshConn, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		conn.Close()
		return fmt.Errorf("log in to %s: %w", addr, err)
	}
	client := ssh.NewClient(sshConn, chans, reqs)
	defer client.Close()

	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("open session on %s: %w", addr, err)
	}
	defer session.Close()

	if err := session.Run(command); err != nil {
		return fmt.Errorf("run %q on %s: %w", command, addr, err)
	}
	return nil
}

// summarize prints the result line and returns an error when a host failed.
func summarize(hosts int, errs []error, elapsed time.Duration) error {
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			fmt.Fprintln(os.Stderr, err)
		}
	}

	fmt.Printf("hosts=%d ok=%d failed=%d seconds=%s\n", hosts, hosts-failed, failed,
		strconv.FormatFloat(elapsed.Seconds(), 'f', 3, 64))
	if failed > 0 {
		return fmt.Errorf("%d of %d hosts failed", failed, hosts)
	}
	return nil
}
