package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_Usage(t *testing.T) {
	root := repoRoot(t)
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"help"}, 0, "usage: go run ./cmd/workbook", ""},
		{[]string{"-h"}, 0, "usage: go run ./cmd/workbook", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"-nosuchflag"}, 2, "", "flag provided but not defined: -nosuchflag"},
		{[]string{"grade"}, 2, "", "name at least one submission directory"},
		{[]string{"grade", "-json", "-md", "x"}, 2, "", "exclude each other"},
		{[]string{"grade", "-steps", "9", "x"}, 2, "", `no step "9"`},
		{[]string{"grade", "-timeout", "soon", "x"}, 2, "", "invalid value"},
		{[]string{"verify", "now"}, 2, "", "verify takes no arguments"},
		{[]string{"watch", "-interval", "0s"}, 2, "", "-interval must be > 0"},
		{[]string{"hint", "9"}, 2, "", `no step "9"`},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", root}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
		if tc.code == 2 && !strings.Contains(stderr.String(), "usage: go run ./cmd/workbook") {
			t.Errorf("%q: no usage on stderr", tc.args)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{root, filepath.Join(root, "steps", "01-jitter"), filepath.Join(root, "cmd", "workbook")} {
		if got, err := findRoot(dir); err != nil || got != root {
			t.Errorf("findRoot(%s) = %q, %v; want %s", dir, got, err, root)
		}
	}
	// A go.mod of another module on the way up is not the workbook's root.
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-C", other, "hint"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no go.mod of module day45-thundering-herd") {
		t.Errorf("outside the repository: exit %d, stderr %q", code, stderr.String())
	}
	if got := modulePathOf(filepath.Join(root, "go.mod")); got != ModulePath {
		t.Errorf("modulePathOf(go.mod) = %q", got)
	}
	writeFile(t, filepath.Join(other, "q", "go.mod"), "// comment\nmodule \"day45-thundering-herd\" // quoted\n")
	if got := modulePathOf(filepath.Join(other, "q", "go.mod")); got != ModulePath {
		t.Errorf("modulePathOf(quoted) = %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, ".gitignore")); err == nil {
		b, _ := os.ReadFile(filepath.Join(root, ".gitignore"))
		if !strings.Contains(string(b), "/.workbook/") {
			t.Errorf(".gitignore does not ignore /.workbook/, where hint keeps its state")
		}
	}
}
