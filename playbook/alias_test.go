package playbook

import (
	"fmt"
	"strings"
	"testing"
)

func TestCompileRejectsRecursiveAlias(t *testing.T) {
	src := "name: a\ntasks:\n  - name: t\n    test_echo: {name: n, settings: &s {k: *s}}\n"
	pb, err := Parse("pb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	_, err = pb.Compile("web1", nil)

	if err == nil || !strings.Contains(err.Error(), "alias *s is inside the value it refers to") {
		t.Errorf("Compile error = %v, want the recursive alias named", err)
	}
}

func TestCompileLimitsAliasExpansion(t *testing.T) {
	items := []string{"&l0 [a, a, a, a, a, a, a, a, a, a]"}
	for i := 1; i <= 8; i++ {
		ref := fmt.Sprintf("*l%d", i-1)
		items = append(items, fmt.Sprintf("&l%d [%s]", i, strings.Repeat(ref+", ", 9)+ref))
	}
	src := "name: a\ntasks:\n  - name: t\n    test_echo: {name: n, users: [" +
		strings.Join(items, ", ") + "]}\n"
	pb, err := Parse("pb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	_, err = pb.Compile("web1", nil)

	if err == nil || !strings.Contains(err.Error(), "more than 100000 YAML nodes") {
		t.Errorf("Compile error = %v, want the expansion limit", err)
	}
}
