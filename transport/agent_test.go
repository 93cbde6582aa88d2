package transport

import "testing"

func TestAgentAddress(t *testing.T) {
	tests := []struct {
		goos, socket     string
		network, address string
	}{
		{"linux", "/tmp/agent.sock", "unix", "/tmp/agent.sock"},
		{"linux", "", "", ""},
		{"darwin", "/private/tmp/com.apple.launchd.x/Listeners", "unix",
			"/private/tmp/com.apple.launchd.x/Listeners"},
		{"windows", "", "pipe", windowsAgentPipe},
		{"windows", `\\.\pipe\my-agent`, "pipe", `\\.\pipe\my-agent`},
		{"windows", "//./pipe/my-agent", "pipe", "//./pipe/my-agent"},
		{"windows", `C:\Users\me\agent.sock`, "unix", `C:\Users\me\agent.sock`},
	}
	for _, tt := range tests {
		network, address := agentAddress(tt.goos, tt.socket)
		if network != tt.network || address != tt.address {
			t.Errorf("agentAddress(%q, %q) = %q, %q, want %q, %q", tt.goos, tt.socket,
				network, address, tt.network, tt.address)
		}
	}
}

func TestDialAgentPipeOffWindows(t *testing.T) {
	_, err := dialAgent("pipe", windowsAgentPipe)

	wantContains(t, err, "Windows only")
}
