package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// TestProgress_Starter runs the real learner view on this repository, whose day45/ is the starter (as the
// progression test also requires): 0/6, step 01 current, its first failing assertion, and what to read next. It runs
// in the repository rather than in a copy so that go test's build cache serves it from the second run on (a copy in
// a new directory recompiles everything, about 30s on two cores).
func TestProgress_Starter(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", repoRoot(t)}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("stdout:\n%s", out)
	require.Equal(t, 0, code, "exit code (a progress view exits 0 even when steps fail); stderr:\n%s", stderr.String())
	for _, want := range []string{
		"0/6 steps done.",
		"01-jitter        TTL jitter               0/",
		"▶ current",
		"Current step 01-jitter (TTL jitter):",
		"see steps/01-jitter/README.md", // the first failing assertion names the README
		"next: read steps/01-jitter/README.md, edit day45/jitter.go",
		"go run ./cmd/workbook hint 1",
	} {
		assert.Contains(t, out, want, "the progress view lacks %q", want)
	}
	assert.NotContains(t, out, "✅", "want no step done")
	assert.Equal(t, 6, strings.Count(out, "· todo"), "want six todo rows (five steps and the capstone)")
}

func fakeSnapshot(passed int, capstone progression.Outcome) snapshot {
	var s snapshot
	for i := range progression.Steps() {
		r := progression.PackageResult{Outcome: progression.Failed, Tests: 3, FailedTests: []string{"TestA"}, FirstFailure: "x_test.go:9: 1000 Gets caused 1000 DB queries; want 1 — see README"}
		if i < passed {
			r = progression.PackageResult{Outcome: progression.Passed, Tests: 3, PassedTests: 3}
		}
		s.Steps = append(s.Steps, r)
	}
	s.Capstone = progression.PackageResult{Outcome: capstone, Tests: 4}
	if capstone == progression.Passed {
		s.Capstone.PassedTests = 4
	} else {
		s.Capstone.FirstFailure = "capstone_test.go:59: boom"
	}
	return s
}

func TestPrintProgress(t *testing.T) {
	cases := []struct {
		name  string
		snap  snapshot
		ascii bool
		want  []string
	}{
		{"two done", fakeSnapshot(2, progression.Failed), false, []string{
			"2/6 steps done.", "01-jitter        TTL jitter               3/3    ✅ done",
			"03-lock          Redis distributed lock   0/3    ▶ current", "Current step 03-lock (Redis distributed lock): 3 of 3 tests fail",
			"    x_test.go:9: 1000 Gets caused 1000 DB queries", "next: read steps/03-lock/README.md, edit day45/lock.go",
			"check: go test ./steps/03-lock/", "hint 3",
		}},
		{"ascii", fakeSnapshot(1, progression.Failed), true, []string{"[x] done", "[>] current", "[ ] todo"}},
		{"capstone left", fakeSnapshot(6, progression.Failed), false, []string{
			"6/6 steps done.", "capstone         day45/capstone_test.go   0/4    ▶ current", "The capstone does not", "capstone_test.go:59: boom",
			"next: read day45/README.md",
		}},
		{"all done", fakeSnapshot(6, progression.Passed), false, []string{"capstone         day45/capstone_test.go   4/4    ✅ done", "Day 45 is done"}},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		printProgress(&b, tc.snap, tc.ascii)
		for _, w := range tc.want {
			assert.Contains(t, b.String(), w, "%s: output lacks %q", tc.name, w)
		}
	}

	// A day45 that does not compile: every package is a build error, and the current step shows the compiler.
	s := fakeSnapshot(0, progression.BuildFailed)
	for i := range s.Steps {
		s.Steps[i] = progression.PackageResult{Outcome: progression.BuildFailed, FirstFailure: "day45/jitter.go:3:1: syntax error"}
	}
	var b bytes.Buffer
	printProgress(&b, s, false)
	for _, w := range []string{"01-jitter        TTL jitter               -      ▶ current (build-error)", "does not compile:", "day45/jitter.go:3:1: syntax error"} {
		assert.Contains(t, b.String(), w, "build error: output lacks %q", w)
	}
}
