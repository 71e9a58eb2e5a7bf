package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// TestProgress_Starter runs the real learner view on this repository, whose day45/ is the starter (as the
// progression test also requires): 0/6, step 01 current, its first failing assertion, and what to read next. It runs
// in the repository rather than in a copy so that go test's build cache serves it from the second run on (a copy in
// a new directory recompiles everything, about 30s on two cores). It runs with -fast: the view is what it checks, and
// TestProgressOpts_RaceByDefault checks that the race detector is on without it.
func TestProgress_Starter(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", repoRoot(t), "-fast"}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("stdout:\n%s", out)
	require.Equal(t, 0, code, "exit code (a progress view exits 0 even when steps fail); stderr:\n%s", stderr.String())
	for _, want := range []string{
		"0/6 Step 完了。",
		"01-jitter        TTL ジッター             0/",
		"▶ いまここ",
		"いまの Step 01-jitter（TTL ジッター）：",
		"steps/01-jitter/README.md を参照", // the first failing assertion names the README
		"次に：steps/01-jitter/README.md を読み、day45/jitter.go を編集する",
		"go run ./cmd/workbook hint 1",
	} {
		assert.Contains(t, out, want, "the progress view lacks %q", want)
	}
	assert.NotContains(t, out, "✅", "want no step done")
	// Five core steps, the capstone and the advanced track.
	assert.Equal(t, len(progression.Steps()), strings.Count(out, "· 未着手"), "want a todo row for every step but the current one, and the capstone")
	advanced := len(progression.Steps()) - progression.CoreSteps()
	assert.Contains(t, out, fmt.Sprintf("発展コース 0/%d。", advanced), "the advanced track's count")
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
			"2/6 Step 完了。", "01-jitter        TTL ジッター             3/3    ✅ 完了",
			"03-lock          Redis 分散ロック         0/3    ▶ いまここ", "いまの Step 03-lock（Redis 分散ロック）：3 個中 3 個のテストが失敗しています",
			"    steps/03-lock/x_test.go:9: 1000 Gets caused 1000 DB queries", "次に：steps/03-lock/README.md を読み、day45/lock.go を編集する",
			"確認：go test ./steps/03-lock/", "hint 3",
		}},
		{"ascii", fakeSnapshot(1, progression.Failed), true, []string{"[x] 完了", "[>] いまここ", "[ ] 未着手"}},
		{"capstone left", fakeSnapshot(6, progression.Failed), false, []string{
			"6/6 Step 完了。", "capstone         day45/capstone_test.go   0/4    ▶ いまここ", "仕上げ（capstone）はまだです", "capstone_test.go:59: boom",
			"次に：day45/README.md を読み",
		}},
		{"all done", fakeSnapshot(6, progression.Passed), false, []string{"capstone         day45/capstone_test.go   4/4    ✅ 完了", "Day 45 完了"}},
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
	for _, w := range []string{"01-jitter        TTL ジッター             -      ▶ いまここ（build-error）", "コンパイルできません：", "day45/jitter.go:3:1: syntax error"} {
		assert.Contains(t, b.String(), w, "build error: output lacks %q", w)
	}
}

func TestLinkTests(t *testing.T) {
	got := linkTests("jitter_test.go:74:\nError: x\n    jitter_test.go:80: y", "steps/01-jitter")
	assert.Equal(t, "steps/01-jitter/jitter_test.go:74:\nError: x\n    steps/01-jitter/jitter_test.go:80: y", got)
}
