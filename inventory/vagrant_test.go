package inventory

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// updateGolden rewrites the golden files from the current output, for
// `go test ./inventory -run Vagrant -update`.
var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// The recorded inputs are what Vagrant 2.3.4 prints for three machines, made by rendering
// its own ssh-config template. virtualbox.ssh-config has the settings of a VirtualBox lab:
// forwarded ports on 127.0.0.1, a project path with a space and two keys for lab3.
// libvirt.ssh-config has those of a libvirt lab: private addresses and port 22.
func TestFromVagrantGolden(t *testing.T) {
	for _, provider := range []string{"virtualbox", "libvirt"} {
		t.Run(provider, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("testdata", "vagrant",
				provider+".ssh-config"))
			if err != nil {
				t.Fatal(err)
			}

			got, err := FromVagrantSSHConfig(bytes.NewReader(input))
			if err != nil {
				t.Fatalf("FromVagrantSSHConfig: %v", err)
			}

			golden := filepath.Join("testdata", "vagrant", provider+".yaml")
			if *updateGolden {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (rerun with -update to accept):\n%s",
					golden, got)
			}
		})
	}
}

func TestFromVagrantRoundTrip(t *testing.T) {
	tests := []struct {
		provider string
		address  []string
		port     []int
		key      []string
	}{
		{"virtualbox",
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.1"},
			[]int{2222, 2223, 2224},
			[]string{
				"/home/ops/fleet lab/.vagrant/machines/lab1/virtualbox/private_key",
				"/home/ops/fleet lab/.vagrant/machines/lab2/virtualbox/private_key",
				// Only the first IdentityFile of lab3 is kept.
				"/home/ops/fleet lab/.vagrant/machines/lab3/virtualbox/private_key",
			}},
		{"libvirt",
			[]string{"192.168.121.57", "192.168.121.112", "192.168.121.203"},
			[]int{22, 22, 22},
			[]string{
				"/home/ops/fleet-lab/.vagrant/machines/lab1/libvirt/private_key",
				"/home/ops/fleet-lab/.vagrant/machines/lab2/libvirt/private_key",
				"/home/ops/fleet-lab/.vagrant/machines/lab3/libvirt/private_key",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			inv, err := Load(filepath.Join("testdata", "vagrant", tt.provider+".yaml"))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}

			if got := hostNames(inv.Hosts); !slices.Equal(got, []string{"lab1", "lab2", "lab3"}) {
				t.Fatalf("hosts = %v, want lab1, lab2 and lab3", got)
			}
			for i, host := range inv.Hosts {
				if host.Address != tt.address[i] {
					t.Errorf("%s address = %q, want %q", host.Name, host.Address, tt.address[i])
				}
				if host.Port != tt.port[i] {
					t.Errorf("%s port = %d, want %d", host.Name, host.Port, tt.port[i])
				}
				if host.User != "vagrant" {
					t.Errorf("%s user = %q, want vagrant", host.Name, host.User)
				}
				if host.KeyFile != tt.key[i] {
					t.Errorf("%s key = %q, want %q", host.Name, host.KeyFile, tt.key[i])
				}
				if !host.Become {
					t.Errorf("%s become = false, want true", host.Name)
				}
			}
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings = %q, want none", inv.Warnings)
			}
		})
	}
}

func TestFromVagrantHeader(t *testing.T) {
	input := "Host lab1\n  HostName 127.0.0.1\n  Port 2222\n  User vagrant\n"
	got, err := FromVagrantSSHConfig(strings.NewReader(input))
	if err != nil {
		t.Fatalf("FromVagrantSSHConfig: %v", err)
	}

	text := string(got)
	for _, want := range []string{
		"# Vagrant turns host key checks off for its machines (StrictHostKeyChecking no,\n" +
			"# UserKnownHostsFile /dev/null).",
		"--accept-new-host-keys",
		"--known-hosts .vagrant/fleetharden_known_hosts",
		"Delete it after `vagrant destroy`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if len(line) > 90 {
			t.Errorf("line of %d bytes, want at most 90: %q", len(line), line)
		}
	}
}

func TestFromVagrantNotes(t *testing.T) {
	input := `Host lab1
  HostName=10.0.0.5
  user ops
  PORT 2200
  ProxyCommand ssh -W %h:%p jump
  ForwardAgent yes
Host lab2
  HostName 10.0.0.6
`
	got, err := FromVagrantSSHConfig(strings.NewReader(input))
	if err != nil {
		t.Fatalf("FromVagrantSSHConfig: %v", err)
	}

	text := string(got)
	for _, want := range []string{
		"# lab1 logs in as ops, not vagrant: make sure ops may run sudo without a password,",
		"# lab1: the ssh options ProxyCommand are left out, because an inventory cannot",
		"# lab2 sets no User, so fleetharden logs in as the user running it",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	inv, err := Parse("vagrant.yaml", got)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, got)
	}
	lab1 := findHost(t, inv, "lab1")
	if lab1.Address != "10.0.0.5" || lab1.Port != 2200 || lab1.User != "ops" {
		t.Errorf("lab1 = %s@%s:%d, want ops@10.0.0.5:2200", lab1.User, lab1.Address, lab1.Port)
	}
	if lab2 := findHost(t, inv, "lab2"); lab2.Port != 22 {
		t.Errorf("lab2 port = %d, want 22", lab2.Port)
	}
}

func TestFromVagrantErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty", "", []string{"read vagrant ssh-config: no Host block found"}},
		{"vagrant error", "The provider for this Vagrant-managed machine is reporting " +
			"that it\nis not yet ready for SSH.\n", []string{
			`read vagrant ssh-config: line 1: expected a Host line, got "The provider for ` +
				`this Vagrant-managed ma"...; the input must be` + " `vagrant ssh-config` output",
		}},
		{"invalid values", "Host lab1\n  Port 70000\nHost lab*\n  HostName 10.0.0.1;x\n" +
			"  User Admin\nHost a b\n", []string{
			`read vagrant ssh-config: line 2: invalid Port "70000" of host lab1: it must ` +
				"be an integer from 1 to 65535",
			"read vagrant ssh-config: line 6: the Host line names several hosts (a b)",
			"read vagrant ssh-config: host lab* at line 3: invalid host name: it contains '*'",
			`read vagrant ssh-config: host lab* at line 3: invalid HostName "10.0.0.1;x"`,
			`read vagrant ssh-config: host lab* at line 3: invalid User "Admin"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromVagrantSSHConfig(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("FromVagrantSSHConfig returned no error, want %q", tt.want)
			}

			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error = %q, want %d lines", err, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("error line %d = %q, want prefix %q", i, lines[i], want)
				}
			}
		})
	}
}
