package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"day45-thundering-herd/internal/progression"
)

// gradeOne grades the submission at dir with the real go test, for the given -steps.
func gradeOne(t *testing.T, dir, steps string, timeout time.Duration) Submission {
	t.Helper()
	ns, capstone, err := parseSteps(steps)
	if err != nil {
		t.Fatal(err)
	}
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
	t.Fatalf("no entry %s in %+v", dir, sub)
	return StepGrade{}
}

// TestGrade_FullMarks grades the whole course end to end: the reference's six files copied into day45/ earn 100.
// It is the one test that runs every step; the others grade one or two.
func TestGrade_FullMarks(t *testing.T) {
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	got := gradeOne(t, sub, "all", 2*time.Minute)
	if got.Score != 100 || got.Max != 100 || len(got.Problems) != 0 {
		t.Errorf("score %d/%d, problems %q; want 100/100 and none", got.Score, got.Max, got.Problems)
	}
	for _, e := range got.all() {
		if e.Score != e.Max || e.Outcome != "pass" || len(e.Reasons) != 0 || e.Tests == 0 || e.Passed != e.Tests {
			t.Errorf("%s: %d/%d %s %d/%d tests, reasons %q; want full marks", e.Dir, e.Score, e.Max, e.Outcome, e.Passed, e.Tests, e.Reasons)
		}
	}
	// The JSON report carries score and max per submission and the per-step details.
	var buf bytes.Buffer
	if err := writeJSON(&buf, Report{Submissions: []Submission{got}, Summary: summarize([]Submission{got}, gradeOpts{Steps: []int{1, 2, 3, 4, 5, 6}, Capstone: true})}); err != nil {
		t.Fatal(err)
	}
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
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, buf.String())
	}
	s := doc.Submissions[0]
	if s.Score != 100 || s.Max != 100 || len(s.Steps) != 6 || s.Steps[0].Dir != "01-jitter" || s.Steps[5].Score != 15 ||
		s.Capstone.Score != 10 || doc.Summary.Count != 1 || doc.Summary.Mean != 100 || doc.Summary.FullMarks != 1 {
		t.Errorf("JSON report: %s", buf.String())
	}
}

// TestGrade_FreshClone: the starter earns nothing, by honest assertion failures, without problems.
func TestGrade_FreshClone(t *testing.T) {
	t.Parallel()
	got := gradeOne(t, copyTree(t), "1,4,capstone", 2*time.Minute)
	if got.Score != 0 || got.Max != 40 || len(got.Problems) != 0 {
		t.Errorf("score %d/%d problems %q; want 0/40 and none", got.Score, got.Max, got.Problems)
	}
	for _, e := range got.all() {
		if e.Outcome != "fail" || e.Passed != 0 || e.Tests == 0 || !containsAny(e.Reasons, "fail") {
			t.Errorf("%s: outcome %s, %d/%d tests, reasons %q; want every test failing by assertion", e.Dir, e.Outcome, e.Passed, e.Tests, e.Reasons)
		}
	}
	if first := entry(t, got, "01-jitter").FirstFailure; !strings.Contains(first, "steps/01-jitter/README.md") {
		t.Errorf("first failure of step 01 %q does not point to its README", first)
	}
}

// TestGrade_DataRace: an unsynchronised package counter in the metrics (a learner's "count with ++") races in the
// herd of step 06; the step scores 0 for it although its assertions pass.
func TestGrade_DataRace(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/metrics.go", `func \(m \*metrics\) miss\(\)\s*\{`, "var missCount int64\n\nfunc (m *metrics) miss() {\n\tmissCount++\n")
	got := gradeOne(t, sub, "6", 2*time.Minute)
	e := entry(t, got, "06-metrics")
	if e.Score != 0 || e.Outcome != "race" || !containsAny(e.Reasons, "data race (at day45/metrics.go:") || !containsAny(got.Problems, "06-metrics: data race") {
		t.Errorf("step 06: %d/%d %s reasons %q, problems %q; want 0, race, \"data race\"", e.Score, e.Max, e.Outcome, e.Reasons, got.Problems)
	}
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
	if e.Score != 0 || e.Outcome != "leak" || e.Passed != e.Tests || !containsAny(e.Reasons, "goroutine leak (at day45/watcher.go:") {
		t.Errorf("step 01: %d/%d %s %d/%d tests, reasons %q; want 0, leak with every test passing, \"goroutine leak\"", e.Score, e.Max, e.Outcome, e.Passed, e.Tests, e.Reasons)
	}
}

// TestGrade_DoesNotCompile: a day45 that does not compile scores 0 overall, with the compiler's words.
func TestGrade_DoesNotCompile(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `(return max\(d, 1\))`, "$1\n}\n\nfunc broken() int {\n\treturn \"not an int\"")
	got := gradeOne(t, sub, "all", 2*time.Minute)
	if got.Score != 0 || got.Max != 100 || len(got.Problems) != 1 || !strings.HasPrefix(got.Problems[0], "does not compile: ") ||
		!strings.Contains(got.Problems[0], "day45/jitter.go") {
		t.Fatalf("score %d/%d, problems %q; want 0/100 and one \"does not compile: …day45/jitter.go…\"", got.Score, got.Max, got.Problems)
	}
	if strings.Contains(got.Problems[0], repoRoot(t)) || strings.Contains(got.Problems[0], sub) || !strings.HasPrefix(got.Problems[0], "does not compile: day45/jitter.go:") {
		t.Errorf("the reason names the files by absolute paths instead of day45/jitter.go: %q", got.Problems[0])
	}
	for _, e := range got.all() {
		if e.Score != 0 || e.Outcome != "build-error" || !containsAny(e.Reasons, "does not compile") {
			t.Errorf("%s: %d %s %q; want 0, build-error, \"does not compile\"", e.Dir, e.Score, e.Outcome, e.Reasons)
		}
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
	if e.Score != 0 || e.Outcome != "build-error" || !containsAny(e.Reasons, "tests do not compile: steps/04-breaker/breaker_test.go:") ||
		!containsAny(e.Reasons, "State undefined") {
		t.Errorf("step 04: %d/%d %s reasons %q; want 0, build-error and the compiler's line", e.Score, e.Max, e.Outcome, e.Reasons)
	}
	if e := entry(t, got, "01-jitter"); e.Score != 15 {
		t.Errorf("step 01: %d/%d %s %q; want 15", e.Score, e.Max, e.Outcome, e.Reasons)
	}
}

// TestGrade_DeletedTestFile: without its test file a step would have nothing to fail; the pristine tests run (and
// pass), yet the step scores 0 with the reason. (A complete solution, so that the build cache of TestGrade_FullMarks
// serves it.)
func TestGrade_DeletedTestFile(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	if err := os.Remove(filepath.Join(sub, "steps", "01-jitter", "jitter_test.go")); err != nil {
		t.Fatal(err)
	}
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	const reason = "test file deleted: steps/01-jitter/jitter_test.go"
	if e.Score != 0 || !containsAny(e.Reasons, reason) || !containsAny(got.Problems, reason) {
		t.Errorf("step 01: %d/%d reasons %q problems %q; want 0 and %q", e.Score, e.Max, e.Reasons, got.Problems, reason)
	}
	if e.Outcome != "pass" || e.Tests == 0 {
		t.Errorf("step 01: the pristine tests did not run against the submission: %s %d/%d", e.Outcome, e.Passed, e.Tests)
	}
}

// TestGrade_WeakenedAssertion: a starter day45 with step 01's assertions turned into logs would pass its own tests;
// the grader runs the pristine ones (which fail) and scores 0 with the reason.
func TestGrade_WeakenedAssertion(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	edit(t, sub, "steps/01-jitter/jitter_test.go", `t\.(Fatalf|Errorf)\(`, "t.Logf(")
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	const reason = "test file modified: steps/01-jitter/jitter_test.go"
	if e.Score != 0 || !containsAny(e.Reasons, reason) || !containsAny(got.Problems, reason) {
		t.Errorf("step 01: %d/%d reasons %q problems %q; want 0 and %q", e.Score, e.Max, e.Reasons, got.Problems, reason)
	}
	if e.Outcome != "fail" || e.Passed != 0 {
		t.Errorf("step 01: %s %d/%d; want the pristine tests to fail on the starter", e.Outcome, e.Passed, e.Tests)
	}
}

// TestGrade_Hang: an AddJitter that never returns is cut off by the per-step timeout and scores 0.
func TestGrade_Hang(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go")
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`, "$1\n\ttime.Sleep(time.Hour)")
	got := gradeOne(t, sub, "1", 3*time.Second)
	e := entry(t, got, "01-jitter")
	if e.Score != 0 || e.Outcome != "timeout" || !containsAny(e.Reasons, "timed out after 3s (at day45/jitter.go:") {
		t.Errorf("step 01: %d/%d %s reasons %q; want 0, timeout, \"timed out after 3s\"", e.Score, e.Max, e.Outcome, e.Reasons)
	}
}

// TestGrade_VetFindings: each go vet finding in the step's file costs 2 points.
func TestGrade_VetFindings(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, "jitter.go")
	f, err := os.OpenFile(filepath.Join(sub, "day45", "jitter.go"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nfunc selfAssign() int {\n\tx := 1\n\tx = x\n\treturn x\n}\n")
	f.Close()
	got := gradeOne(t, sub, "1", 2*time.Minute)
	e := entry(t, got, "01-jitter")
	if e.Score != 13 || e.Outcome != "pass" || !containsAny(e.Reasons, "vet: jitter.go:") || !containsAny(e.Reasons, "self-assignment") {
		t.Errorf("step 01: %d/%d %s reasons %q; want 13 (15 - 2) and the vet finding", e.Score, e.Max, e.Outcome, e.Reasons)
	}
}

// TestGrade_NotSubmissions: whatever is handed in, the grader answers with a graded entry and a reason.
func TestGrade_NotSubmissions(t *testing.T) {
	t.Parallel()
	class := t.TempDir()
	writeFile(t, filepath.Join(class, "notes", "README.txt"), "not a checkout")
	if err := os.Mkdir(filepath.Join(class, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(class, "other", "go.mod"), "module example.com/other\n")
	writeFile(t, filepath.Join(class, "nocode", "go.mod"), "module "+ModulePath+"\n")
	writeFile(t, filepath.Join(class, ".git", "HEAD"), "ref: main") // hidden: not a submission
	file := filepath.Join(t.TempDir(), "a-file")
	writeFile(t, file, "x")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"grade", "-json", class, file, filepath.Join(class, "missing")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	want := map[string]string{
		"empty":   "no go.mod",
		"nocode":  "no Go files in day45/",
		"notes":   "no go.mod",
		"other":   `declares module "example.com/other"`,
		"a-file":  "not a directory",
		"missing": "no such file",
	}
	if len(rep.Submissions) != len(want) {
		t.Errorf("%d submissions, want %d: %+v", len(rep.Submissions), len(want), rep.Submissions)
	}
	for _, s := range rep.Submissions {
		if s.Score != 0 || s.Max != 100 || len(s.Problems) != 1 || !strings.Contains(s.Problems[0], want[s.Name]) ||
			len(s.Steps) != 6 || s.Capstone == nil || s.Steps[0].Outcome != "not-run" {
			t.Errorf("%s: %d/%d problems %q; want 0/100 and %q", s.Name, s.Score, s.Max, s.Problems, want[s.Name])
		}
	}
	if rep.Summary.Count != len(want) || len(rep.Summary.WithProblems) != len(want) || rep.Summary.Mean != 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
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
		if tc.e.Score != tc.score {
			t.Errorf("%s: score %d, want %d (reasons %q)", tc.name, tc.e.Score, tc.score, tc.e.Reasons)
		}
		if tc.reason == "" && len(tc.e.Reasons) != 0 {
			t.Errorf("%s: reasons %q, want none", tc.name, tc.e.Reasons)
		}
		if tc.reason != "" && !containsAny(tc.e.Reasons, tc.reason) {
			t.Errorf("%s: reasons %q, want one containing %q", tc.name, tc.e.Reasons, tc.reason)
		}
	}
}

func TestCompareTests(t *testing.T) {
	root := repoRoot(t)
	sub := t.TempDir()
	for _, rel := range pristineTests(root) {
		mustCopy(t, filepath.Join(root, rel), filepath.Join(sub, rel))
	}
	if tampered, notes := compareTests(root, sub); len(tampered) != 0 || len(notes) != 0 {
		t.Fatalf("an exact copy: tampered %v, notes %q", tampered, notes)
	}
	// CRLF line ends (a Windows checkout) are not tampering.
	crlf := filepath.Join(sub, "testutil", "herd.go")
	b, _ := os.ReadFile(crlf)
	writeFile(t, crlf, strings.ReplaceAll(string(b), "\n", "\r\n"))
	os.Remove(filepath.Join(sub, "day45", "capstone_test.go"))
	writeFile(t, filepath.Join(sub, "steps", "04-breaker", "breaker_test.go"), "package breaker_test\n")
	writeFile(t, filepath.Join(sub, "steps", "04-breaker", "mine_test.go"), "package breaker_test\n")
	tampered, notes := compareTests(root, sub)
	var got []string
	for _, tp := range tampered {
		got = append(got, tp.reason())
	}
	want := []string{"test file modified: steps/04-breaker/breaker_test.go", "test file deleted: day45/capstone_test.go"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tampered %q, want %q", got, want)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "steps/04-breaker/mine_test.go") {
		t.Errorf("notes %q, want the added test file", notes)
	}
	if !tampered[0].affects(4) || tampered[0].affects(3) || tampered[0].affects(0) || !tampered[1].affects(0) || tampered[1].affects(1) {
		t.Errorf("affects: %v", tampered)
	}
}

func TestParseSteps(t *testing.T) {
	for in, want := range map[string]struct {
		steps    string
		capstone bool
	}{
		"all":                     {"[1 2 3 4 5 6]", true},
		"":                        {"[1 2 3 4 5 6]", true},
		"2,1":                     {"[1 2]", false},
		"01-jitter, swr,capstone": {"[1 5]", true},
		"capstone":                {"[]", true},
	} {
		steps, capstone, err := parseSteps(in)
		if err != nil || fmtInts(steps) != want.steps || capstone != want.capstone {
			t.Errorf("parseSteps(%q) = %v %v %v; want %s %v", in, steps, capstone, err, want.steps, want.capstone)
		}
	}
	for _, bad := range []string{"7", "0", "x", "1,,2"} {
		if _, _, err := parseSteps(bad); err == nil {
			t.Errorf("parseSteps(%q) accepted it", bad)
		}
	}
}

func fmtInts(v []int) string { return fmt.Sprint(v) }

func TestSummarize(t *testing.T) {
	o := gradeOpts{Steps: []int{1, 2}, Capstone: true}
	mk := func(name string, s1, s2, c int, problems ...string) Submission {
		return Submission{Name: name, Score: s1 + s2 + c, Max: 40, Problems: problems,
			Steps:    []StepGrade{{Step: 1, Score: s1, Max: 15}, {Step: 2, Score: s2, Max: 15}},
			Capstone: &StepGrade{Score: c, Max: 10}}
	}
	s := summarize([]Submission{mk("a", 15, 15, 10), mk("b", 15, 10, 0), mk("c", 0, 0, 0, "does not compile"), mk("d", 15, 0, 0, "02-singleflight: data race")}, o)
	if s.Count != 4 || s.Max != 40 || s.Mean != 20 || s.Median != 20 || s.FullMarks != 1 {
		t.Errorf("count %d max %d mean %v median %v full %d; want 4 40 20 20 1", s.Count, s.Max, s.Mean, s.Median, s.FullMarks)
	}
	if s.Steps[0].Passed != 3 || s.Steps[0].Rate != 0.75 || s.Steps[1].Passed != 1 || s.Capstone.Passed != 1 || s.Capstone.Rate != 0.25 {
		t.Errorf("rates %+v capstone %+v", s.Steps, s.Capstone)
	}
	if strings.Join(s.WithProblems, ",") != "c,d" {
		t.Errorf("with problems %q, want c,d", s.WithProblems)
	}
	var md bytes.Buffer
	if err := writeMarkdown(&md, Report{Submissions: []Submission{mk("a", 15, 15, 10), mk("c|x", 0, 0, 0, "does not compile:\nx.go:1")}, Summary: s}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## a: 40/40", "## c\\|x: 0/40", "## Class summary", "| 01-jitter | 3/4 | 75% |", "- c\\|x: does not compile:<br>x.go:1"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown report lacks %q:\n%s", want, md.String())
		}
	}
}
