package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

func TestRun_Usage(t *testing.T) {
	root := repoRoot(t)
	beyond := strconv.Itoa(len(allSteps()) + 1) // one past the manifest's last step
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
		{[]string{"grade", "-steps", beyond, "x"}, 2, "", `no step "` + beyond + `"`},
		{[]string{"grade", "-timeout", "soon", "x"}, 2, "", "invalid value"},
		{[]string{"verify", "now"}, 2, "", "verify takes no arguments"},
		{[]string{"watch", "-interval", "0s"}, 2, "", "-interval は 0 より大きく"},
		{[]string{"hint", beyond}, 2, "", `Step "` + beyond + `" はありません`},
		{[]string{"check"}, 2, "", "check には Step の番号を"},
		{[]string{"check", beyond}, 2, "", `Step "` + beyond + `" はありません`},
		{[]string{"check", "1", "-count", "0"}, 2, "", "1 以上の -count"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", root}, tc.args...), &stdout, &stderr)
		assert.Equal(t, tc.code, code, "%q: exit code; stdout %q, stderr %q", tc.args, stdout.String(), stderr.String())
		assert.Contains(t, stdout.String(), tc.stdout, "%q: stdout", tc.args)
		assert.Contains(t, stderr.String(), tc.stderr, "%q: stderr", tc.args)
		if tc.code == 2 {
			assert.Contains(t, stderr.String(), "usage: go run ./cmd/workbook", "%q: no usage on stderr", tc.args)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{root, filepath.Join(root, "steps", "01-jitter"), filepath.Join(root, "cmd", "workbook")} {
		got, err := findRoot(dir)
		assert.NoError(t, err, "findRoot(%s)", dir)
		assert.Equal(t, root, got, "findRoot(%s)", dir)
	}
	// A go.mod of another module on the way up is not the workbook's root.
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", other, "hint"}, &stdout, &stderr)
	assert.Equal(t, 1, code, "outside the repository: exit code; stderr %q", stderr.String())
	assert.Contains(t, stderr.String(), "no go.mod of module day45-thundering-herd", "outside the repository: stderr")
	assert.Equal(t, ModulePath, progression.ModulePathOf(filepath.Join(root, "go.mod")), "progression.ModulePathOf(go.mod)")
	writeFile(t, filepath.Join(other, "q", "go.mod"), "// comment\nmodule \"day45-thundering-herd\" // quoted\n")
	assert.Equal(t, ModulePath, progression.ModulePathOf(filepath.Join(other, "q", "go.mod")), "progression.ModulePathOf(quoted)")
	if _, err := os.Stat(filepath.Join(root, ".gitignore")); err == nil {
		b, err := os.ReadFile(filepath.Join(root, ".gitignore"))
		require.NoError(t, err)
		assert.Contains(t, string(b), "/.workbook/", ".gitignore does not ignore /.workbook/, where hint keeps its state")
	}
}
