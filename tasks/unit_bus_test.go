package tasks

import (
	"reflect"
	"strings"
	"testing"
)

// systemctl252Show is what systemctl show of systemd 252 printed on a lab host for a unit
// with quoted Environment items and two environment files.
const systemctl252Show = `MainPID=0
ExecStart={ path=/bin/sleep ; argv[]=/bin/sleep 1 2 $A ${B} \x ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
ExecStart={ path=/bin/true ; argv[]=/bin/true ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
Environment="A=x y" B=2 "C=q\"uo" "D=back\\slash" "E=\$dollar"
EnvironmentFiles=/etc/default/fhtest (ignore_errors=yes)
EnvironmentFiles=/etc/default/fhtest2 (ignore_errors=no)
LoadState=loaded
`

func TestParseUnitPropertiesQuotedEnv(t *testing.T) {
	got := parseUnitProperties(systemctl252Show)
	want := unitProperties{
		argv: []string{"/bin/sleep", "1", "2", "$A", "${B}", `\x`},
		envFiles: []envFile{
			{path: "/etc/default/fhtest", optional: true},
			{path: "/etc/default/fhtest2"},
		},
		env: map[string]string{
			"A": "x y", "B": "2", "C": `q"uo`, "D": `back\slash`, "E": "$dollar",
		},
		loadState: "loaded",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseUnitProperties:\n got %+v\nwant %+v", got, want)
	}
}

func TestSplitQuoted(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"A=1  B=2", []string{"A=1", "B=2"}},
		{`"A=x y" B=2`, []string{"A=x y", "B=2"}},
		{`"A=\"\\\$\` + "`" + `"`, []string{`A="\$` + "`"}},
		{`"K=ü\001z" "G=tab\tx" "N=a\nb" "Q=\'"`, []string{"K=ü\x01z", "G=tab\tx", "N=a\nb", "Q='"}},
		// systemctl quotes every item with a backslash, so one outside quotes is kept.
		{`A=\x`, []string{`A=\x`}},
	}
	for _, tt := range tests {
		if got := splitQuoted(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitQuoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseUnitPropertiesLongLine(t *testing.T) {
	argv := "/usr/sbin/dockerd" + strings.Repeat(" --label=a.long.label=value", 4000)
	out := "ExecStart={ path=/usr/sbin/dockerd ; argv[]=" + argv + " ; ignore_errors=no }\n" +
		"LoadState=loaded\n"
	got := parseUnitProperties(out)
	if got.loadState != "loaded" {
		t.Errorf("LoadState %q after a %d-byte line, want loaded", got.loadState, len(argv))
	}
	if len(got.argv) != 4001 {
		t.Errorf("%d words of ExecStart, want 4001", len(got.argv))
	}
}

func TestSplitLineSections(t *testing.T) {
	m := sectionMarker
	tests := []struct {
		in   string
		want []string
	}{
		{"a\n" + m + "\nb\n" + m + "\nc\n", []string{"a\n", "b\n", "c\n"}},
		{"Environment=X=" + m + "\nL\n" + m + "\n" + m + "\nc\n", []string{"Environment=X=" + m + "\nL\n", "", "c\n"}},
		{m + "\nb\n", []string{"", "b\n"}},
		{"a\n" + m + "\nb\n" + m + "\nc\n" + m + "\nd", []string{"a\n", "b\n", "c\n" + m + "\nd"}},
		{"a\n", []string{"a\n"}},
	}
	for _, tt := range tests {
		if got := splitLineSections(tt.in, 3); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitLineSections(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
