package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

const fixtureREADME = "# Step 01: fixture\n\n## 🎯 goal\n\ntext\n\n### not a hint\n\nbody\n\n## ヒント\n\n" +
	"### ヒント 1 — a nudge\n\nLook at the window.\n\n" +
	"### ヒント 2\n\nFloat first:\n\n```go\n## not a heading\n### nor this\nx := 1\n```\n\nthen convert.\n\n" +
	"### ヒント 3 — the approach\n\nThe whole approach.\n#### a detail\nstill hint 3\n\n" +
	"## 次へ\n\n### not a hint either\n"

func TestParseHints(t *testing.T) {
	hints := parseHints(strings.ReplaceAll(fixtureREADME, "\n", "\r\n"))
	want := []hint{
		{"ヒント 1 — a nudge", "Look at the window."},
		{"ヒント 2", "Float first:\n\n```go\n## not a heading\n### nor this\nx := 1\n```\n\nthen convert."},
		{"ヒント 3 — the approach", "The whole approach.\n#### a detail\nstill hint 3"},
	}
	require.Len(t, hints, len(want), "hints %q", hints)
	for i := range want {
		assert.Equal(t, want[i], hints[i], "hint %d", i+1)
	}
	assert.Empty(t, parseHints("# x\n\n## other\n\n### ヒント 1\n\nno section\n"), "hints outside a ## ヒント section")
}

// TestStepREADMEHints: every step's README has hints that the command can show.
func TestStepREADMEHints(t *testing.T) {
	root := repoRoot(t)
	for _, s := range progression.Steps() {
		hints, rel, err := stepHints(root, s)
		if !assert.NoError(t, err, "step %s", s.Dir) {
			continue
		}
		for i, h := range hints {
			assert.True(t, strings.HasPrefix(h.Title, "ヒント "), "%s: hint %d has title %q; want \"ヒント %d …\"", rel, i+1, h.Title, i+1)
			assert.NotEmpty(t, strings.TrimSpace(h.Body), "%s: hint %d (%q) has no text; want a body", rel, i+1, h.Title)
		}
	}
}

func TestHintCommand(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module "+ModulePath+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(root, "steps", "01-jitter", "README.md"), fixtureREADME)
	hint := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", root, "hint"}, args...), &stdout, &stderr)
		require.Equal(t, 0, code, "hint %q: exit code; stderr: %s", args, stderr.String())
		return stdout.String()
	}
	out := hint("1")
	assert.Contains(t, out, "ヒント 1 — a nudge（ヒント 1/3", "hint 1: output")
	assert.Contains(t, out, "Look at the window.", "hint 1: output")
	assert.Contains(t, out, "でヒント 2/3 を表示します", "hint 1: output")
	out = hint("01")
	assert.Contains(t, out, "（ヒント 2/3", "hint 01: output")
	assert.Contains(t, out, "then convert.", "hint 01: output")
	out = hint("jitter")
	assert.Contains(t, out, "（ヒント 3/3", "hint jitter: output")
	assert.Contains(t, out, "The whole approach.", "hint jitter: output")
	assert.Contains(t, out, "この Step のヒントはこれで最後です", "hint jitter: output")
	out = hint("01-jitter")
	assert.Contains(t, out, "ヒント 3 個はすべて表示済みです", "hint 01-jitter: output")
	assert.Contains(t, out, "（ヒント 3/3", "hint 01-jitter: output")
	assert.Contains(t, out, "The whole approach.", "hint 01-jitter: output")
	assert.NotContains(t, out, "この Step のヒントはこれで最後です", "the repeat says again that this is the last hint")
	b, err := os.ReadFile(filepath.Join(root, ".workbook", "hints.json"))
	if assert.NoError(t, err, "state file") {
		assert.Contains(t, string(b), `"01-jitter": 3`, "state file")
	}
	out = hint()
	assert.Contains(t, out, "1  01-jitter        3/3", "hint: output")
	assert.Contains(t, out, "2  02-singleflight  0/?", "hint: output")
	assert.Contains(t, hint("1", "reset"), "最初に戻しました", "hint 1 reset: output")
	assert.Contains(t, hint("1"), "（ヒント 1/3", "hint 1 after the reset: output")

	// A corrupt state file is a fresh start, not a crash.
	writeFile(t, filepath.Join(root, ".workbook", "hints.json"), "{not json")
	assert.Contains(t, hint("1"), "（ヒント 1/3", "hint 1 with a corrupt state file: output")

	for _, bad := range [][]string{{strconv.Itoa(len(progression.Steps()) + 1)}, {"1", "again"}, {"1", "reset", "x"}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"-C", root, "hint"}, bad...), &stdout, &stderr)
		assert.Equal(t, 2, code, "hint %q: exit code", bad)
	}
	// A step whose README has no hints yet: exit 1 with the reason.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", root, "hint", "2"}, &stdout, &stderr)
	assert.Equal(t, 1, code, "hint 2 without a README: exit code; stderr %q", stderr.String())
	assert.Contains(t, stderr.String(), "steps/02-singleflight/README.md がありません", "hint 2 without a README: stderr")
}
