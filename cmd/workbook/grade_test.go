package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// gradeOne grades the submission at dir with the real go test, for the given -steps.
func gradeOne(t *testing.T, dir, steps string, timeout time.Duration) Submission {
	t.Helper()
	ns, capstone, err := parseSteps(steps)
	require.NoError(t, err, "parseSteps(%q)", steps)
	g := &grader{root: repoRoot(t), opts: gradeOpts{Timeout: timeout, Steps: ns, Capstone: capstone}, run: progression.Run, log: io.Discard}
	start := time.Now()
	sub := g.grade(context.Background(), filepath.Base(dir), dir)
	t.Logf("graded -steps %s in %s: %d/%d problems=%q", steps, time.Since(start).Round(100*time.Millisecond), sub.Score, sub.Max, sub.Problems)
	return sub
}

func entry(t *testing.T, sub Submission, dir string) StepGrade {
	t.Helper()
	for _, e := range sub.all() {
		if e.Dir == dir {
			return *e
		}
	}
	require.FailNowf(t, "no entry "+dir, "in %+v", sub)
	return StepGrade{}
}

// TestGrade_FullMarks grades the whole course end to end: the reference's six files copied into day45/ earn 100.
// It is the one test that runs every step; the others grade one or two.
func TestGrade_FullMarks(t *testing.T) {
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	got := gradeOne(t, sub, "all", 2*time.Minute)
	assert.Equal(t, 100, got.Score, "score; want 100/100")
	assert.Equal(t, 100, got.Max, "max; want 100/100")
	bonus := bonusPoints * (len(progression.Steps()) - progression.CoreSteps())
	assert.Equal(t, bonus, got.Bonus, "bonus; want all of it")
	assert.Equal(t, bonus, got.BonusMax, "bonus max")
	assert.Empty(t, got.Problems, "problems; want none")
	for _, e := range got.all() {
		assert.Equal(t, e.Max, e.Score, "%s: score; want full marks (reasons %q)", e.Dir, e.Reasons)
		assert.Equal(t, "pass", e.Outcome, "%s: outcome; want full marks", e.Dir)
		assert.Empty(t, e.Reasons, "%s: reasons; want full marks", e.Dir)
		assert.NotZero(t, e.Tests, "%s: tests; want full marks", e.Dir)
		assert.Equal(t, e.Tests, e.Passed, "%s: passed tests; want full marks", e.Dir)
	}
	// The JSON report carries score and max per submission and the per-step details.
	var buf bytes.Buffer
	err := writeJSON(&buf, Report{Submissions: []Submission{got}, Summary: summarize([]Submission{got}, gradeOpts{Steps: allSteps(), Capstone: true})})
	require.NoError(t, err)
	var doc struct {
		Submissions []struct {
			Score, Max int
			Steps      []struct {
				Step         int
				Dir          string
				Score, Max   int
				Tests        int
				Passed       int
				Outcome      string
				Reasons      []string
				FirstFailure *string `json:"first_failure"`
			}
			Capstone struct{ Score, Max int }
		}
		Summary struct {
			Count     int
			Mean      float64
			FullMarks int `json:"full_marks"`
		}
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "the JSON report does not parse:\n%s", buf.String())
	require.NotEmpty(t, doc.Submissions, "JSON report: %s", buf.String())
	s := doc.Submissions[0]
	assert.Equal(t, 100, s.Score, "JSON report: score: %s", buf.String())
	assert.Equal(t, 100, s.Max, "JSON report: max: %s", buf.String())
	assert.Equal(t, 10, s.Capstone.Score, "JSON report: capstone score: %s", buf.String())
	assert.Equal(t, 1, doc.Summary.Count, "JSON report: summary count: %s", buf.String())
	assert.Equal(t, 100.0, doc.Summary.Mean, "JSON report: summary mean: %s", buf.String())
	assert.Equal(t, 1, doc.Summary.FullMarks, "JSON report: summary full marks: %s", buf.String())
	require.Len(t, s.Steps, len(progression.Steps()), "JSON report: steps: %s", buf.String())
	assert.Equal(t, "01-jitter", s.Steps[0].Dir, "JSON report: first step: %s", buf.String())
	assert.Equal(t, 15, s.Steps[5].Score, "JSON report: score of step 06: %s", buf.String())
}

// TestGrade_FreshClone: the starter earns nothing, by honest assertion failures, without problems.
func TestGrade_FreshClone(t *testing.T) {
	t.Parallel()
	got := gradeOne(t, copyTree(t), "1,4,capstone", 2*time.Minute)
	assert.Equal(t, 0, got.Score, "score; want 0/40")
	assert.Equal(t, 40, got.Max, "max; want 0/40")
	assert.Empty(t, got.Problems, "problems; want none")
	for _, e := range got.all() {
		assert.Equal(t, "fail", e.Outcome, "%s: outcome; want every test failing by assertion (reasons %q)", e.Dir, e.Reasons)
		assert.Equal(t, 0, e.Passed, "%s: passed tests; want every test failing by assertion", e.Dir)
		assert.NotZero(t, e.Tests, "%s: tests; want every test failing by assertion", e.Dir)
		assert.True(t, containsAny(e.Reasons, "fail"), "%s: reasons %q; want one containing \"fail\"", e.Dir, e.Reasons)
	}
	assert.Contains(t, entry(t, got, "01-jitter").FirstFailure, "steps/01-jitter/README.md", "the first failure of step 01 does not point to its README")
}

// TestGrade_DataRace: an unsynchronised package counter in the metrics (a learner's "count with ++") races in the
// herd of step 06, where the callers served by the shared load count at once; the step scores 0 for it although
// its assertions pass.
func TestGrade_DataRace(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/metrics.go", `func \(m \*metrics\) singleFlightHit\(\)\s*\{`, "var sharedCount int64\n\nfunc (m *metrics) singleFlightHit() {\n\tsharedCount++\n")
	got := gradeOne(t, sub, "6", 2*time.Minute)
	e := entry(t, got, "06-metrics")
	assert.Equal(t, 0, e.Score, "step 06: score (reasons %q)", e.Reasons)
	assert.Equal(t, "race", e.Outcome, "step 06: outcome")
	assert.True(t, containsAny(e.Reasons, "data race (at day45/metrics.go:"), "step 06: reasons %q; want one containing \"data race (at day45/metrics.go:\"", e.Reasons)
	assert.True(t, containsAny(got.Problems, "06-metrics: data race"), "problems %q; want one containing \"06-metrics: data race\"", got.Problems)
}

// TestGrade_GoroutineLeak: a goroutine started by AddJitter and never stopped: every test passes, goleak fails the
// package, the step scores 0.
func TestGrade_GoroutineLeak(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go")
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`, "$1\n\tstartWatcher()")
	writeFile(t, filepath.Join(sub, "day45", "watcher.go"), `package day45

import "sync"

var watcherOnce sync.Once

// startWatcher starts a goroutine that nothing ever stops.
func startWatcher() { watcherOnce.Do(func() { go func() { select {} }() }) }
`)
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	assert.Equal(t, 0, e.Score, "step 01: score (reasons %q)", e.Reasons)
	assert.Equal(t, "leak", e.Outcome, "step 01: outcome")
	assert.Equal(t, e.Tests, e.Passed, "step 01: passed tests; want every test passing")
	assert.True(t, containsAny(e.Reasons, "goroutine leak (at day45/watcher.go:"), "step 01: reasons %q; want one containing \"goroutine leak (at day45/watcher.go:\"", e.Reasons)
}

// TestGrade_DoesNotCompile: a day45 that does not compile scores 0 overall, with the compiler's words.
func TestGrade_DoesNotCompile(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `(return max\(d, 1\))`, "$1\n}\n\nfunc broken() int {\n\treturn \"not an int\"")
	got := gradeOne(t, sub, "all", 2*time.Minute)
	require.Equal(t, 0, got.Score, "score; want 0/100 (problems %q)", got.Problems)
	require.Equal(t, 100, got.Max, "max; want 0/100")
	require.Len(t, got.Problems, 1, "problems; want one \"does not compile: …day45/jitter.go…\"")
	problem := got.Problems[0]
	require.True(t, strings.HasPrefix(problem, "does not compile: "), "problem %q; want \"does not compile: …day45/jitter.go…\"", problem)
	require.Contains(t, problem, "day45/jitter.go", "problem; want \"does not compile: …day45/jitter.go…\"")
	assert.NotContains(t, problem, repoRoot(t), "the reason names the files by absolute paths instead of day45/jitter.go")
	assert.NotContains(t, problem, sub, "the reason names the files by absolute paths instead of day45/jitter.go")
	assert.True(t, strings.HasPrefix(problem, "does not compile: day45/jitter.go:"), "the reason names the files by absolute paths instead of day45/jitter.go: %q", problem)
	for _, e := range got.all() {
		assert.Equal(t, 0, e.Score, "%s: score (reasons %q)", e.Dir, e.Reasons)
		assert.Equal(t, "build-error", e.Outcome, "%s: outcome", e.Dir)
		assert.True(t, containsAny(e.Reasons, "does not compile"), "%s: reasons %q; want one containing \"does not compile\"", e.Dir, e.Reasons)
	}
}

// TestGrade_TestsDoNotCompile: day45 compiles, but a renamed method breaks the step's tests: that step scores 0 with
// the compiler's line, the other steps are graded as usual.
func TestGrade_TestsDoNotCompile(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go", "breaker.go")
	edit(t, sub, "day45/breaker.go", `func \(cb \*CircuitBreaker\) State\(\)`, "func (cb *CircuitBreaker) Status()")
	got := gradeOne(t, sub, "1,4", 2*time.Minute)
	e := entry(t, got, "04-breaker")
	assert.Equal(t, 0, e.Score, "step 04: score (reasons %q)", e.Reasons)
	assert.Equal(t, "build-error", e.Outcome, "step 04: outcome")
	assert.True(t, containsAny(e.Reasons, "tests do not compile: steps/04-breaker/breaker_test.go:"), "step 04: reasons %q; want the compiler's line", e.Reasons)
	assert.True(t, containsAny(e.Reasons, "State undefined"), "step 04: reasons %q; want the compiler's line", e.Reasons)
	e = entry(t, got, "01-jitter")
	assert.Equal(t, 15, e.Score, "step 01: score (%s, reasons %q)", e.Outcome, e.Reasons)
}

// TestGrade_DeletedTestFile: without its test file a step would have nothing to fail; the pristine tests run (and
// pass), yet the step scores 0 with the reason. (A complete solution, so that the build cache of TestGrade_FullMarks
// serves it.)
func TestGrade_DeletedTestFile(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	require.NoError(t, os.Remove(filepath.Join(sub, "steps", "01-jitter", "jitter_test.go")))
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	const reason = "test file deleted: steps/01-jitter/jitter_test.go"
	assert.Equal(t, 0, e.Score, "step 01: score (reasons %q)", e.Reasons)
	assert.True(t, containsAny(e.Reasons, reason), "step 01: reasons %q; want %q", e.Reasons, reason)
	assert.True(t, containsAny(got.Problems, reason), "problems %q; want %q", got.Problems, reason)
	assert.Equal(t, "pass", e.Outcome, "step 01: the pristine tests did not run against the submission")
	assert.NotZero(t, e.Tests, "step 01: the pristine tests did not run against the submission")
}

// TestGrade_WeakenedAssertion: a starter day45 with step 01's assertions turned into logs would pass its own tests;
// the grader runs the pristine ones (which fail) and scores 0 with the reason.
func TestGrade_WeakenedAssertion(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	// Step 01's tests assert with testify: every assertion gets a t that only logs its failure.
	edit(t, sub, "steps/01-jitter/jitter_test.go", `\b(assert|require)\.(\w+)\(t,`, "${1}.${2}(logOnly{t},")
	edit(t, sub, "steps/01-jitter/jitter_test.go", `\z`, "\n// logOnly turns an assertion's failure into a log line.\ntype logOnly struct{ *testing.T }\n\n"+
		"func (l logOnly) Errorf(format string, args ...any) { l.Logf(format, args...) }\n\nfunc (l logOnly) FailNow() {}\n")
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	const reason = "test file modified: steps/01-jitter/jitter_test.go"
	assert.Equal(t, 0, e.Score, "step 01: score (reasons %q)", e.Reasons)
	assert.True(t, containsAny(e.Reasons, reason), "step 01: reasons %q; want %q", e.Reasons, reason)
	assert.True(t, containsAny(got.Problems, reason), "problems %q; want %q", got.Problems, reason)
	assert.Equal(t, "fail", e.Outcome, "step 01: outcome; want the pristine tests to fail on the starter")
	assert.Equal(t, 0, e.Passed, "step 01: passed tests (of %d); want the pristine tests to fail on the starter", e.Tests)
}

// TestGrade_Hang: an AddJitter that never returns is cut off by the per-step timeout and scores 0.
func TestGrade_Hang(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go")
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`, "$1\n\ttime.Sleep(time.Hour)")
	got := gradeOne(t, sub, "1", 3*time.Second)
	e := entry(t, got, "01-jitter")
	assert.Equal(t, 0, e.Score, "step 01: score (reasons %q)", e.Reasons)
	assert.Equal(t, "timeout", e.Outcome, "step 01: outcome")
	assert.True(t, containsAny(e.Reasons, "timed out after 3s (at day45/jitter.go:"), "step 01: reasons %q; want one containing \"timed out after 3s (at day45/jitter.go:\"", e.Reasons)
}

// TestGrade_VetFindings: each go vet finding in the step's file costs 2 points.
func TestGrade_VetFindings(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go")
	f, err := os.OpenFile(filepath.Join(sub, "day45", "jitter.go"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\nfunc selfAssign() int {\n\tx := 1\n\tx = x\n\treturn x\n}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	assert.Equal(t, 13, e.Score, "step 01: score; want 13 (15 - 2) (reasons %q)", e.Reasons)
	assert.Equal(t, "pass", e.Outcome, "step 01: outcome")
	assert.True(t, containsAny(e.Reasons, "vet: jitter.go:"), "step 01: reasons %q; want the vet finding", e.Reasons)
	assert.True(t, containsAny(e.Reasons, "self-assignment"), "step 01: reasons %q; want the vet finding", e.Reasons)
}

// TestGrade_NotSubmissions: whatever is handed in, the grader answers with a graded entry and a reason.
func TestGrade_NotSubmissions(t *testing.T) {
	t.Parallel()
	class := t.TempDir()
	writeFile(t, filepath.Join(class, "notes", "README.txt"), "not a checkout")
	require.NoError(t, os.Mkdir(filepath.Join(class, "empty"), 0o755))
	writeFile(t, filepath.Join(class, "other", "go.mod"), "module example.com/other\n")
	writeFile(t, filepath.Join(class, "nocode", "go.mod"), "module "+ModulePath+"\n")
	writeFile(t, filepath.Join(class, ".git", "HEAD"), "ref: main") // hidden: not a submission
	file := filepath.Join(t.TempDir(), "a-file")
	writeFile(t, file, "x")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"grade", "-json", class, file, filepath.Join(class, "missing")}, &stdout, &stderr)
	require.Equal(t, 0, code, "exit code; stderr:\n%s", stderr.String())
	var rep Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "the JSON report does not parse:\n%s", stdout.String())
	want := map[string]string{
		"empty":   "no go.mod",
		"nocode":  "no Go files in day45/",
		"notes":   "no go.mod",
		"other":   `declares module "example.com/other"`,
		"a-file":  "not a directory",
		"missing": "no such file",
	}
	assert.Len(t, rep.Submissions, len(want), "submissions %+v", rep.Submissions)
	for _, s := range rep.Submissions {
		assert.Equal(t, 0, s.Score, "%s: score; want 0/100", s.Name)
		assert.Equal(t, 100, s.Max, "%s: max; want 0/100", s.Name)
		if assert.Len(t, s.Problems, 1, "%s: problems; want one containing %q", s.Name, want[s.Name]) {
			assert.Contains(t, s.Problems[0], want[s.Name], "%s: problem", s.Name)
		}
		assert.NotNil(t, s.Capstone, "%s: capstone", s.Name)
		if assert.Len(t, s.Steps, len(progression.Steps()), "%s: steps", s.Name) {
			assert.Equal(t, "not-run", s.Steps[0].Outcome, "%s: outcome of the first step", s.Name)
		}
	}
	assert.Equal(t, len(want), rep.Summary.Count, "summary %+v", rep.Summary)
	assert.Len(t, rep.Summary.WithProblems, len(want), "summary %+v", rep.Summary)
	assert.Zero(t, rep.Summary.Mean, "summary %+v", rep.Summary)
}

func TestScore(t *testing.T) {
	const timeout = 2 * time.Minute
	res := func(o progression.Outcome, tests, passed int, failed ...string) progression.PackageResult {
		return progression.PackageResult{Outcome: o, Tests: tests, PassedTests: passed, FailedTests: failed, FirstFailure: "x_test.go:1: boom"}
	}
	step := func() *StepGrade { return &StepGrade{Step: 1, Dir: "01-jitter", Max: stepPoints} }
	capstone := func() *StepGrade { return &StepGrade{Step: 0, Dir: "capstone", Max: capstonePoints} }
	vet := func(n int) []string {
		var v []string
		for i := range n {
			v = append(v, "jitter.go:"+string(rune('1'+i))+": finding")
		}
		return v
	}
	cases := []struct {
		name     string
		e        *StepGrade
		r        progression.PackageResult
		vet      []string
		tampered []tamper
		score    int
		reason   string
	}{
		{"all pass", step(), res(progression.Passed, 3, 3), nil, nil, 15, ""},
		{"2 of 3 rounds down", step(), res(progression.Failed, 3, 2, "TestB"), nil, nil, 10, "1 of 3 tests fail: TestB"},
		{"1 of 4", step(), res(progression.Failed, 4, 1, "TestB", "TestC", "TestD"), nil, nil, 3, "3 of 4 tests fail"},
		{"none pass", step(), res(progression.Failed, 4, 0, "A", "B", "C", "D"), nil, nil, 0, "4 of 4"},
		{"race", step(), res(progression.Raced, 3, 3), nil, nil, 0, "data race"},
		{"leak", step(), res(progression.Leaked, 3, 3), nil, nil, 0, "goroutine leak"},
		{"timeout", step(), res(progression.TimedOut, 1, 0), nil, nil, 0, "timed out after 2m0s"},
		{"panic", step(), res(progression.Panicked, 2, 1), nil, nil, 0, "panic"},
		{"tests do not compile", step(), func() progression.PackageResult {
			r := res(progression.BuildFailed, 0, 0)
			r.FirstFailure = "# day45-thundering-herd/steps/01-jitter_test [day45-thundering-herd/steps/01-jitter.test]\nsteps/01-jitter/jitter_test.go:33:9: undefined: testutil.AddJitter"
			return r
		}(), nil, nil, 0, "tests do not compile: steps/01-jitter/jitter_test.go:33:9: undefined: testutil.AddJitter"},
		{"no tests", step(), res(progression.NoTests, 0, 0), nil, nil, 0, "no tests ran"},
		{"one vet finding", step(), res(progression.Passed, 3, 3), vet(1), nil, 13, "vet: jitter.go:1: finding"},
		{"vet penalty is capped", step(), res(progression.Passed, 3, 3), vet(5), nil, 9, "vet: jitter.go:5: finding"},
		{"vet never goes below 0", step(), res(progression.Failed, 4, 1, "B", "C", "D"), vet(3), nil, 0, "vet:"},
		{"own test file tampered", step(), res(progression.Passed, 3, 3), nil, []tamper{{path: "steps/01-jitter/jitter_test.go"}}, 0, "test file modified: steps/01-jitter/jitter_test.go"},
		{"other step's file tampered", step(), res(progression.Passed, 3, 3), nil, []tamper{{path: "steps/02-singleflight/main_test.go", deleted: true}}, 15, ""},
		{"testutil tampered", step(), res(progression.Passed, 3, 3), nil, []tamper{{path: "testutil/herd.go"}}, 0, "test file modified: testutil/herd.go"},
		{"capstone passes", capstone(), res(progression.Passed, 4, 4), nil, nil, 10, ""},
		{"capstone is all or nothing", capstone(), res(progression.Failed, 4, 3, "TestX"), nil, nil, 0, "capstone tests fail: TestX"},
		{"vet does not touch the capstone", capstone(), res(progression.Passed, 4, 4), vet(2), nil, 10, ""},
		{"capstone's test deleted", capstone(), res(progression.Passed, 4, 4), nil, []tamper{{path: "day45/capstone_test.go", deleted: true}}, 0, "test file deleted: day45/capstone_test.go"},
	}
	for _, tc := range cases {
		score(tc.e, tc.r, timeout, tc.vet, tc.tampered)
		assert.Equal(t, tc.score, tc.e.Score, "%s: score (reasons %q)", tc.name, tc.e.Reasons)
		if tc.reason == "" {
			assert.Empty(t, tc.e.Reasons, "%s: reasons, want none", tc.name)
		} else {
			assert.True(t, containsAny(tc.e.Reasons, tc.reason), "%s: reasons %q, want one containing %q", tc.name, tc.e.Reasons, tc.reason)
		}
	}
}

func TestCompareTests(t *testing.T) {
	root := repoRoot(t)
	sub := t.TempDir()
	for _, rel := range pristineTests(root) {
		mustCopy(t, filepath.Join(root, rel), filepath.Join(sub, rel))
	}
	tampered, notes := compareTests(root, sub)
	require.Empty(t, tampered, "an exact copy: tampered")
	require.Empty(t, notes, "an exact copy: notes")
	// CRLF line ends (a Windows checkout) are not tampering.
	crlf := filepath.Join(sub, "testutil", "herd.go")
	b, err := os.ReadFile(crlf)
	require.NoError(t, err)
	writeFile(t, crlf, strings.ReplaceAll(string(b), "\n", "\r\n"))
	require.NoError(t, os.Remove(filepath.Join(sub, "day45", "capstone_test.go")))
	writeFile(t, filepath.Join(sub, "steps", "04-breaker", "breaker_test.go"), "package breaker_test\n")
	writeFile(t, filepath.Join(sub, "steps", "04-breaker", "mine_test.go"), "package breaker_test\n")
	tampered, notes = compareTests(root, sub)
	var got []string
	for _, tp := range tampered {
		got = append(got, tp.reason())
	}
	want := []string{"test file modified: steps/04-breaker/breaker_test.go", "test file deleted: day45/capstone_test.go"}
	assert.Equal(t, want, got, "tampered")
	if assert.Len(t, notes, 1, "notes; want the added test file") {
		assert.Contains(t, notes[0], "steps/04-breaker/mine_test.go", "notes; want the added test file")
	}
	require.Len(t, tampered, len(want), "tampered")
	assert.True(t, tampered[0].affects(4), "affects: %v", tampered)
	assert.False(t, tampered[0].affects(3), "affects: %v", tampered)
	assert.False(t, tampered[0].affects(0), "affects: %v", tampered)
	assert.True(t, tampered[1].affects(0), "affects: %v", tampered)
	assert.False(t, tampered[1].affects(1), "affects: %v", tampered)
}

func TestParseSteps(t *testing.T) {
	for in, want := range map[string]struct {
		steps    string
		capstone bool
	}{
		"all":                     {fmtInts(allSteps()), true},
		"":                        {fmtInts(allSteps()), true},
		"2,1":                     {"[1 2]", false},
		"01-jitter, swr,capstone": {"[1 5]", true},
		"capstone":                {"[]", true},
	} {
		steps, capstone, err := parseSteps(in)
		assert.NoError(t, err, "parseSteps(%q)", in)
		assert.Equal(t, want.steps, fmtInts(steps), "parseSteps(%q): steps", in)
		assert.Equal(t, want.capstone, capstone, "parseSteps(%q): capstone", in)
	}
	for _, bad := range []string{strconv.Itoa(len(progression.Steps()) + 1), "0", "x", "1,,2"} {
		_, _, err := parseSteps(bad)
		assert.Error(t, err, "parseSteps(%q) accepted it", bad)
	}
}

func fmtInts(v []int) string { return fmt.Sprint(v) }

// allSteps is every step's number, core and advanced, from the manifest.
func allSteps() []int {
	var ns []int
	for _, s := range progression.Steps() {
		ns = append(ns, s.N)
	}
	return ns
}

func TestSummarize(t *testing.T) {
	o := gradeOpts{Steps: []int{1, 2}, Capstone: true}
	mk := func(name string, s1, s2, c int, problems ...string) Submission {
		return Submission{Name: name, Score: s1 + s2 + c, Max: 40, Problems: problems,
			Steps:    []StepGrade{{Step: 1, Score: s1, Max: 15}, {Step: 2, Score: s2, Max: 15}},
			Capstone: &StepGrade{Score: c, Max: 10}}
	}
	s := summarize([]Submission{mk("a", 15, 15, 10), mk("b", 15, 10, 0), mk("c", 0, 0, 0, "does not compile"), mk("d", 15, 0, 0, "02-singleflight: data race")}, o)
	assert.Equal(t, 4, s.Count, "count")
	assert.Equal(t, 40, s.Max, "max")
	assert.Equal(t, 20.0, s.Mean, "mean")
	assert.Equal(t, 20.0, s.Median, "median")
	assert.Equal(t, 1, s.FullMarks, "full marks")
	require.Len(t, s.Steps, 2, "rates %+v", s.Steps)
	require.NotNil(t, s.Capstone, "capstone")
	assert.Equal(t, 3, s.Steps[0].Passed, "rates %+v", s.Steps)
	assert.Equal(t, 0.75, s.Steps[0].Rate, "rates %+v", s.Steps)
	assert.Equal(t, 1, s.Steps[1].Passed, "rates %+v", s.Steps)
	assert.Equal(t, 1, s.Capstone.Passed, "capstone %+v", s.Capstone)
	assert.Equal(t, 0.25, s.Capstone.Rate, "capstone %+v", s.Capstone)
	assert.Equal(t, []string{"c", "d"}, s.WithProblems, "with problems")
	var md bytes.Buffer
	err := writeMarkdown(&md, Report{Submissions: []Submission{mk("a", 15, 15, 10), mk("c|x", 0, 0, 0, "does not compile:\nx.go:1")}, Summary: s})
	require.NoError(t, err)
	for _, want := range []string{"## a: 40/40", "## c\\|x: 0/40", "## Class summary", "| 01-jitter | 3/4 | 75% |", "- c\\|x: does not compile:<br>x.go:1"} {
		assert.Contains(t, md.String(), want, "Markdown report lacks %q", want)
	}
}
