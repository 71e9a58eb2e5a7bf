package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if len(hints) != len(want) {
		t.Fatalf("%d hints, want %d: %q", len(hints), len(want), hints)
	}
	for i := range want {
		if hints[i] != want[i] {
			t.Errorf("hint %d = %q, want %q", i+1, hints[i], want[i])
		}
	}
	if h := parseHints("# x\n\n## other\n\n### ヒント 1\n\nno section\n"); len(h) != 0 {
		t.Errorf("hints outside a ## ヒント section: %q", h)
	}
}

// TestStepREADMEHints: every step's README has hints that the command can show.
func TestStepREADMEHints(t *testing.T) {
	root := repoRoot(t)
	for _, s := range progression.Steps() {
		hints, rel, err := stepHints(root, s)
		if err != nil {
			t.Errorf("step %s: %v", s.Dir, err)
			continue
		}
		for i, h := range hints {
			if !strings.HasPrefix(h.Title, "ヒント ") || strings.TrimSpace(h.Body) == "" {
				t.Errorf("%s: hint %d has title %q and %d bytes of text; want \"ヒント %d …\" and a body", rel, i+1, h.Title, len(h.Body), i+1)
			}
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
		if code := run(context.Background(), append([]string{"-C", root, "hint"}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("hint %q: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	expect := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
	expect(hint("1"), "ヒント 1 — a nudge (ヒント 1/3", "Look at the window.", "shows ヒント 2/3")
	expect(hint("01"), "(ヒント 2/3", "then convert.")
	out := hint("jitter")
	expect(out, "(ヒント 3/3", "The whole approach.", "That was the last hint")
	out = hint("01-jitter")
	expect(out, "You have seen all 3 hints", "(ヒント 3/3", "The whole approach.")
	if strings.Contains(out, "That was the last hint") {
		t.Errorf("the repeat says again that this is the last hint:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(root, ".workbook", "hints.json"))
	if err != nil || !strings.Contains(string(b), `"01-jitter": 3`) {
		t.Errorf("state file: %v %s", err, b)
	}
	expect(hint(), "1  01-jitter        3/3", "2  02-singleflight  0/?")
	expect(hint("1", "reset"), "reset")
	expect(hint("1"), "(ヒント 1/3")

	// A corrupt state file is a fresh start, not a crash.
	writeFile(t, filepath.Join(root, ".workbook", "hints.json"), "{not json")
	expect(hint("1"), "(ヒント 1/3")

	for _, bad := range [][]string{{"7"}, {"1", "again"}, {"1", "reset", "x"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"-C", root, "hint"}, bad...), &stdout, &stderr); code != 2 {
			t.Errorf("hint %q: exit %d, want 2", bad, code)
		}
	}
	// A step whose README has no hints yet: exit 1 with the reason.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-C", root, "hint", "2"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "steps/02-singleflight/README.md does not exist") {
		t.Errorf("hint 2 without a README: exit %d, stderr %q", code, stderr.String())
	}
}
