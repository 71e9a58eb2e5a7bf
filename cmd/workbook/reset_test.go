package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/steps"
)

func TestReset(t *testing.T) {
	sub := copyTree(t)
	path := filepath.Join(sub, "day45", "jitter.go")
	starter, err := steps.Starter("01-jitter")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(bytes.Clone(starter), []byte("\nvar mine = 1 // a learner's line\n")...), 0o644))

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", sub, "reset", `.\steps\01-jitter\`}, &stdout, &stderr)
	require.Equal(t, 0, code, "reset: stderr %s", stderr.String())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(starter), string(got), "reset must restore the starter")
	assert.Contains(t, stdout.String(), "- var mine = 1 // a learner's line", "reset must show what it threw away")
	assert.Contains(t, stdout.String(), "day45/jitter.go:1", "a link an editor can open")

	stdout.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"-C", sub, "reset", "1"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "最初の状態のままです", "a second reset changes nothing")
}

func TestSolution_OnlyOnceTheStepPasses(t *testing.T) {
	t.Parallel()
	fresh, solved := copyTree(t), copyTree(t)
	solve(t, solved, "jitter.go")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", fresh, "solution", "1"}, &stdout, &stderr)
	assert.Equal(t, 1, code, "solution before the step passes: exit code")
	assert.Contains(t, stdout.String(), "通ってから表示します", "solution must be refused before the step passes")
	assert.NotContains(t, stdout.String(), "func AddJitter", "the reference must not be shown")

	stdout.Reset()
	code = run(context.Background(), []string{"-C", solved, "solution", "01-jitter"}, &stdout, &stderr)
	require.Equal(t, 0, code, "solution once the step passes: stderr %s", stderr.String())
	assert.Contains(t, stdout.String(), "func AddJitter", "the reference's file")
	assert.Contains(t, stdout.String(), "参照実装と同じです", "a copy of the reference is the same")
}

func TestLineDiff(t *testing.T) {
	a := "package x\n\nfunc f() {\n\treturn 1\n}\n"
	b := "package x\n\nfunc f() {\n\treturn 2\n}\n"
	assert.Equal(t, "  \n  func f() {\n- \treturn 1\n+ \treturn 2\n  }\n", lineDiff(a, b))
	assert.Empty(t, lineDiff(a, a), "no change, no diff")
}

func TestFindStep_Paths(t *testing.T) {
	for _, arg := range []string{"3", "03", "03-lock", "lock", "steps/03-lock", "./steps/03-lock/", `.\steps\03-lock\`, `steps\03-lock`} {
		s, ok := findStep(arg)
		if assert.True(t, ok, "findStep(%q)", arg) {
			assert.Equal(t, "03-lock", s.Dir, "findStep(%q)", arg)
		}
	}
}
