package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"day45-thundering-herd/internal/progression"
)

// The rubric of CHECKLIST.md, as implemented here.
const (
	stepPoints     = 15 // per step, times passed/total of its tests, rounded down
	capstonePoints = 10 // all or nothing
	vetPenalty     = 2  // per go vet finding in the step's day45 file
	vetPenaltyMax  = 6  // per step
)

// buildTimeout bounds go build and go vet of a submission: they do not run its code, so only a broken toolchain
// could make them slow; -timeout is for the tests.
const buildTimeout = 5 * time.Minute

// StepGrade is the grade of one step, or of the capstone (Step 0, Dir "capstone").
type StepGrade struct {
	Step         int      `json:"step"`
	Dir          string   `json:"dir"`
	Title        string   `json:"title"`
	Score        int      `json:"score"`
	Max          int      `json:"max"`
	Tests        int      `json:"tests"`   // top-level tests that ran
	Passed       int      `json:"passed"`  // of which passed
	Outcome      string   `json:"outcome"` // pass fail build-error panic timeout race leak no-tests not-run
	Reasons      []string `json:"reasons"` // why points were lost; empty at full marks
	FirstFailure string   `json:"first_failure,omitempty"`
}

// Submission is the grade of one learner's checkout.
type Submission struct {
	Name     string      `json:"name"`
	Dir      string      `json:"dir"`
	Score    int         `json:"score"`
	Max      int         `json:"max"`
	Problems []string    `json:"problems"`        // what cost points beyond honest assertion failures
	Notes    []string    `json:"notes,omitempty"` // worth knowing, no points lost
	Steps    []StepGrade `json:"steps"`
	Capstone *StepGrade  `json:"capstone,omitempty"` // absent when -steps leaves it out
	Seconds  float64     `json:"seconds"`
}

// gradeOpts are the grader's flags.
type gradeOpts struct {
	Timeout  time.Duration // go test -timeout per package (per step)
	Steps    []int         // the step numbers to grade, in order
	Capstone bool          // grade the capstone too
}

// grader grades submissions against the pristine tests of the module at root.
type grader struct {
	root string // the grader's own checkout: its test files are the pristine ones
	opts gradeOpts
	run  runner
	log  io.Writer // progress lines for the instructor; may be io.Discard

	netnsOnce sync.Once
	netns     bool // run the tests in a network namespace of their own (sandbox.go); see isolated
}

// isolated reports, probing once, whether the tests can run in a network namespace of their own.
func (g *grader) isolated(ctx context.Context) bool {
	g.netnsOnce.Do(func() { g.netns = netnsWorks(ctx) })
	return g.netns
}

func gradeCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("grade")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	asMD := fs.Bool("md", false, "write the report as Markdown (the default)")
	format := fs.String("format", "", "md, json or exercism (Exercism's results.json, version 3; one submission)")
	timeout := fs.Duration("timeout", 2*time.Minute, "go test -timeout for each step's package")
	stepsFlag := fs.String("steps", "all", "the steps to grade: all, or a list like 1,2,capstone")
	outFile := fs.String("o", "", "write the report to this file instead of stdout")
	dirs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *asJSON && *asMD {
		return usageError("grade: -json and -md exclude each other")
	}
	switch {
	case *format == "" && *asJSON:
		*format = "json"
	case *format == "":
		*format = "md"
	case *asJSON || *asMD:
		return usageError("grade: -format excludes -json and -md")
	case *format != "md" && *format != "json" && *format != "exercism":
		return usageError("grade: -format %q: want md, json or exercism", *format)
	}
	if len(dirs) == 0 {
		return usageError("grade: name at least one submission directory (or a folder of them)")
	}
	if *timeout <= 0 {
		return usageError("grade: -timeout must be > 0")
	}
	steps, capstone, err := parseSteps(*stepsFlag)
	if err != nil {
		return usageError("grade: %v", err)
	}
	g := &grader{root: root, opts: gradeOpts{Timeout: *timeout, Steps: steps, Capstone: capstone}, run: progression.Run, log: stderr}
	subs := expandSubmissions(dirs)
	if *format == "exercism" && len(subs) != 1 {
		return usageError("grade: -format exercism grades one submission (results.json is per solution), got %d", len(subs))
	}
	rep := g.gradeAll(ctx, subs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	out := stdout
	if *outFile != "" {
		f, err := os.Create(*outFile)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	switch *format {
	case "json":
		err = writeJSON(out, rep)
	case "exercism":
		err = writeExercism(out, rep.Submissions[0])
	default:
		err = writeMarkdown(out, rep)
	}
	if err == nil && *outFile != "" {
		fmt.Fprintf(stderr, "grade: report written to %s\n", *outFile)
	}
	return err
}

// parseSteps reads -steps: "all", or a comma-separated list of step numbers (or names) and "capstone".
func parseSteps(s string) ([]int, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		var all []int
		for _, st := range progression.Steps() {
			all = append(all, st.N)
		}
		return all, true, nil
	}
	var steps []int
	capstone := false
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "capstone" || part == "c" {
			capstone = true
			continue
		}
		st, ok := findStep(part)
		if !ok {
			return nil, false, fmt.Errorf("-steps: no step %q (use 1..%d or capstone)", part, len(progression.Steps()))
		}
		if !slices.Contains(steps, st.N) {
			steps = append(steps, st.N)
		}
	}
	slices.Sort(steps)
	return steps, capstone, nil
}

// subDir is one submission to grade: a name for the report and its directory.
type subDir struct{ name, dir string }

// expandSubmissions turns the command line into submissions: a directory with a go.mod is one; any other directory
// with subdirectories is a folder of submissions, one per subdirectory; anything else is one (graded with a reason).
func expandSubmissions(args []string) []subDir {
	var subs []subDir
	for _, arg := range args {
		abs, err := filepath.Abs(arg)
		if err != nil {
			abs = arg
		}
		if fileExists(filepath.Join(abs, "go.mod")) {
			subs = append(subs, subDir{filepath.Base(abs), abs})
			continue
		}
		entries, err := os.ReadDir(abs)
		var children []subDir
		if err == nil {
			for _, e := range entries {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					children = append(children, subDir{e.Name(), filepath.Join(abs, e.Name())})
				}
			}
		}
		if len(children) == 0 {
			subs = append(subs, subDir{filepath.Base(abs), abs})
			continue
		}
		subs = append(subs, children...)
	}
	// Names identify submissions in the report: make repeated ones unique.
	seen := map[string]int{}
	for i := range subs {
		seen[subs[i].name]++
		if n := seen[subs[i].name]; n > 1 {
			subs[i].name += "#" + strconv.Itoa(n)
		}
	}
	return subs
}

// gradeAll grades each submission in turn (each go test uses every core) and summarises the class.
func (g *grader) gradeAll(ctx context.Context, subs []subDir) Report {
	rep := Report{Submissions: []Submission{}, Protections: protections(g.isolated(ctx))}
	for i, s := range subs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(g.log, "grade: %s (%d/%d) %s …\n", s.name, i+1, len(subs), s.dir)
		sub := g.grade(ctx, s.name, s.dir)
		fmt.Fprintf(g.log, "grade: %s: %d/%d in %.0fs\n", s.name, sub.Score, sub.Max, sub.Seconds)
		rep.Submissions = append(rep.Submissions, sub)
	}
	rep.Summary = summarize(rep.Submissions, g.opts)
	return rep
}

// newSubmission returns the ungraded entry: every selected step at 0 with outcome not-run.
func (g *grader) newSubmission(name, dir string) Submission {
	sub := Submission{Name: name, Dir: dir, Problems: []string{}}
	steps := progression.Steps()
	for _, n := range g.opts.Steps {
		st := steps[n-1]
		sub.Steps = append(sub.Steps, StepGrade{Step: n, Dir: st.Dir, Title: st.Title, Max: stepPoints, Outcome: "not-run", Reasons: []string{}})
		sub.Max += stepPoints
	}
	if g.opts.Capstone {
		sub.Capstone = &StepGrade{Dir: "capstone", Title: "the lesson's expected output (day45/capstone_test.go)", Max: capstonePoints, Outcome: "not-run", Reasons: []string{}}
		sub.Max += capstonePoints
	}
	return sub
}

// all returns pointers to every graded entry of sub: the steps, then the capstone.
func (sub *Submission) all() []*StepGrade {
	var gs []*StepGrade
	for i := range sub.Steps {
		gs = append(gs, &sub.Steps[i])
	}
	if sub.Capstone != nil {
		gs = append(gs, sub.Capstone)
	}
	return gs
}

// failAll records problem and gives every entry score 0, the outcome and the problem's first words as its reason
// (the text before the first colon: "does not compile", "not a submission"). It is how a submission that cannot be
// tested ends.
func (sub *Submission) failAll(outcome, problem string) {
	sub.Problems = append(sub.Problems, problem)
	short, _, _ := strings.Cut(problem, ":")
	for _, e := range sub.all() {
		e.Outcome = outcome
		e.Score = 0
		e.Reasons = append(e.Reasons, short)
	}
}

// grade grades one submission. It never panics and never returns an error: whatever goes wrong is the grade's
// reason.
func (g *grader) grade(ctx context.Context, name, dir string) (sub Submission) {
	start := time.Now()
	sub = g.newSubmission(name, dir)
	defer func() {
		if r := recover(); r != nil {
			sub.failAll("not-run", fmt.Sprintf("grader bug: %v (please report it)", r))
		}
		sub.Score = 0
		for _, e := range sub.all() {
			sub.Score += e.Score
		}
		sub.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
	}()

	if reason := checkSubmission(dir); reason != "" {
		sub.failAll("not-run", reason)
		return sub
	}
	tampered, notes := compareTests(g.root, dir)
	sub.Notes = append(sub.Notes, notes...)
	sub.Notes = append(sub.Notes, compareGiven(g.root, dir)...)

	overlay, err := buildOverlay(g.root, dir)
	if err != nil {
		sub.failAll("not-run", "grader: cannot read the submission: "+err.Error())
		return sub
	}
	if bad := checkImports(overlay); len(bad) > 0 {
		sub.failAll("rejected", "rejected: "+strings.Join(bad, "; "))
		return sub
	}
	sb, err := newSandbox(ctx, g.isolated(ctx))
	if err != nil {
		sub.failAll("not-run", "grader: cannot prepare the sandbox: "+err.Error())
		return sub
	}
	defer sb.close()
	if !sameFile(filepath.Join(g.root, "go.mod"), filepath.Join(dir, "go.mod")) {
		sub.Notes = append(sub.Notes, "go.mod differs from the course's: graded with the course's go.mod and go.sum")
	}
	ovFile, err := writeOverlay(overlay)
	if err != nil {
		sub.failAll("not-run", "grader: cannot write the overlay: "+err.Error())
		return sub
	}
	defer os.Remove(ovFile)
	// Paths in go's output name the grader's files or, through the overlay, the submission's: make them relative.
	// go prints a path relative to its working directory (the grader's root) when that is shorter.
	absDir, _ := filepath.Abs(dir)
	relDir, relErr := filepath.Rel(g.root, absDir)
	clean := func(s string) string {
		s = strings.ReplaceAll(s, absDir+string(filepath.Separator), "")
		if relErr == nil && relDir != "." {
			s = strings.ReplaceAll(s, relDir+string(filepath.Separator), "")
		}
		return strings.ReplaceAll(s, g.root+string(filepath.Separator), "")
	}

	// Tampering is reported whatever the tests say: the pristine tests run, but the affected entries score 0.
	for _, t := range tampered {
		sub.Problems = append(sub.Problems, t.reason())
	}

	if out, ok := goCmd(ctx, g.root, buildTimeout, "build", "-overlay", ovFile, "./day45"); !ok {
		sub.failAll(string(progression.BuildFailed), "does not compile: "+firstLines(compilerLines(clean(out)), 8))
		return sub
	}
	vet, vetNotes := runVet(ctx, g.root, ovFile, buildTimeout)
	sub.Notes = append(sub.Notes, vetNotes...)

	var pkgs []string
	for _, e := range sub.Steps {
		pkgs = append(pkgs, "./steps/"+e.Dir)
	}
	if sub.Capstone != nil {
		pkgs = append(pkgs, progression.CapstonePackage)
	}
	if len(pkgs) == 0 {
		return sub
	}
	// A backstop over go test's own -timeout (which cmd/go enforces with a kill one minute later).
	backstop := time.Duration(len(pkgs))*g.opts.Timeout + 2*time.Minute
	runCtx, cancel := context.WithTimeout(ctx, backstop)
	defer cancel()
	res, err := g.run(runCtx, g.root, pkgs, progression.Options{Overlay: overlay, Race: true, Timeout: g.opts.Timeout,
		Env: append(gradeEnv(), sb.env...), Wrap: sb.wrap})
	if err != nil {
		reason := "go test could not run: " + firstLines(clean(err.Error()), 8)
		if runCtx.Err() != nil && ctx.Err() == nil {
			reason = fmt.Sprintf("timed out: go test ran longer than %s", backstop)
		}
		sub.failAll("not-run", reason)
		return sub
	}
	for i, e := range sub.all() {
		if i >= len(res) {
			break
		}
		r := res[i]
		r.FirstFailure = clean(r.FirstFailure)
		r.Output = clean(r.Output)
		score(e, r, g.opts.Timeout, vet[fileOf(e.Step)], tampered)
		if p := entryProblem(e); p != "" {
			sub.Problems = append(sub.Problems, p)
		}
	}
	return sub
}

// fileOf returns the day45 file of step n, or "" for the capstone.
func fileOf(n int) string {
	if n < 1 || n > len(progression.Steps()) {
		return ""
	}
	return progression.Steps()[n-1].File
}

// score fills e from its package result by the rubric.
func score(e *StepGrade, r progression.PackageResult, timeout time.Duration, vet []string, tampered []tamper) {
	e.Outcome, e.Tests, e.Passed = string(r.Outcome), r.Tests, r.PassedTests
	if r.Outcome != progression.Passed {
		e.FirstFailure = firstLines(r.FirstFailure, 12)
	}
	for _, t := range tampered {
		if t.affects(e.Step) {
			e.Reasons = append(e.Reasons, t.reason())
		}
	}
	points := 0
	switch r.Outcome {
	case progression.Passed, progression.Failed:
		if e.Step == 0 { // the capstone: all or nothing
			if r.Outcome == progression.Passed {
				points = e.Max
			} else {
				e.Reasons = append(e.Reasons, "capstone tests fail: "+strings.Join(r.FailedTests, ", "))
			}
			break
		}
		if r.Tests > 0 {
			points = e.Max * r.PassedTests / r.Tests
		}
		if len(r.FailedTests) > 0 {
			e.Reasons = append(e.Reasons, fmt.Sprintf("%d of %d tests fail: %s", r.Tests-r.PassedTests, r.Tests, strings.Join(r.FailedTests, ", ")))
		} else if r.Tests == 0 {
			e.Reasons = append(e.Reasons, "no tests ran")
		}
	case progression.Raced:
		e.Reasons = append(e.Reasons, "data race"+where(r.Output))
	case progression.Leaked:
		e.Reasons = append(e.Reasons, "goroutine leak"+where(r.Output))
	case progression.TimedOut:
		e.Reasons = append(e.Reasons, "timed out after "+timeout.String()+where(r.Output))
	case progression.Panicked:
		e.Reasons = append(e.Reasons, "panic"+where(r.Output))
	case progression.BuildFailed:
		e.Reasons = append(e.Reasons, "tests do not compile: "+firstLine(compilerLines(r.FirstFailure)))
	case progression.NoTests, "":
		e.Reasons = append(e.Reasons, "no tests ran")
	}
	if e.Step != 0 && len(vet) > 0 {
		points -= min(vetPenalty*len(vet), vetPenaltyMax)
		for _, v := range vet {
			e.Reasons = append(e.Reasons, "vet: "+v)
		}
	}
	if slices.ContainsFunc(tampered, func(t tamper) bool { return t.affects(e.Step) }) {
		points = 0
	}
	e.Score = max(points, 0)
}

// codeLine finds a line of the learner's code in a stack trace: day45/<file>.go:<line>, not a test file.
var codeLine = regexp.MustCompile(`(?:^|[\s/\\])day45[/\\]([A-Za-z0-9_.]+\.go):(\d+)`)

// where returns " (at day45/file.go:N)" for the first frame of the learner's code in out, the instructor's first
// place to look; "" if there is none.
func where(out string) string {
	for _, m := range codeLine.FindAllStringSubmatch(out, -1) {
		if !strings.HasSuffix(m[1], "_test.go") {
			return " (at day45/" + m[1] + ":" + m[2] + ")"
		}
	}
	return ""
}

// entryProblem summarises what an entry lost beyond honest assertion failures, for the submission's problems.
func entryProblem(e *StepGrade) string {
	var keep []string
	for _, r := range e.Reasons {
		if strings.HasPrefix(r, "test file ") || strings.Contains(r, " tests fail") || r == "no tests ran" {
			continue // tampering is listed once per file; assertion failures are not problems
		}
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		return ""
	}
	return e.Dir + ": " + strings.Join(keep, "; ")
}

// checkSubmission returns why dir is not a submission, or "".
func checkSubmission(dir string) string {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return "not a submission: " + err.Error()
	case !fi.IsDir():
		return "not a submission: not a directory"
	}
	mod := filepath.Join(dir, "go.mod")
	if !fileExists(mod) {
		return "not a submission: no go.mod (expected a checkout of the workbook)"
	}
	if m := modulePathOf(mod); m != ModulePath {
		return fmt.Sprintf("not a submission: go.mod declares module %q, want %q", m, ModulePath)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "day45", "*.go"))
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return ""
		}
	}
	return "not a submission: no Go files in day45/"
}

// tamper is a pristine test file that a submission deleted or changed.
type tamper struct {
	path    string // slash-separated, relative to the module root
	deleted bool
}

func (t tamper) reason() string {
	if t.deleted {
		return "test file deleted: " + t.path
	}
	return "test file modified: " + t.path
}

// affects reports whether the tampered file belongs to step n (0: the capstone). A testutil file affects all.
func (t tamper) affects(n int) bool {
	switch {
	case strings.HasPrefix(t.path, "testutil/"):
		return true
	case t.path == "day45/capstone_test.go":
		return n == 0
	case n >= 1 && n <= len(progression.Steps()):
		return strings.HasPrefix(t.path, "steps/"+progression.Steps()[n-1].Dir+"/")
	}
	return false
}

// pristineTests lists the test files that grading runs, relative to root: every steps/*/*_test.go, the capstone's
// day45/capstone_test.go and testutil's non-test .go files (the helpers every test uses).
func pristineTests(root string) []string {
	var files []string
	for _, s := range progression.Steps() {
		m, _ := filepath.Glob(filepath.Join(root, "steps", s.Dir, "*_test.go"))
		files = append(files, m...)
	}
	files = append(files, filepath.Join(root, "day45", "capstone_test.go"))
	m, _ := filepath.Glob(filepath.Join(root, "testutil", "*.go"))
	for _, f := range m {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	rel := make([]string, 0, len(files))
	for _, f := range files {
		if r, err := filepath.Rel(root, f); err == nil {
			rel = append(rel, filepath.ToSlash(r))
		}
	}
	return rel
}

// compareTests compares the submission's copies of the pristine test files with the grader's. It also notes the
// test files the submission added, which grading ignores.
func compareTests(root, dir string) ([]tamper, []string) {
	var tampered []tamper
	pristine := pristineTests(root)
	for _, rel := range pristine {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		switch {
		case err != nil:
			tampered = append(tampered, tamper{path: rel, deleted: true})
		case !bytes.Equal(normalize(got), normalize(want)):
			tampered = append(tampered, tamper{path: rel})
		}
	}
	var notes []string
	var extra []string
	for _, s := range progression.Steps() {
		m, _ := filepath.Glob(filepath.Join(dir, "steps", s.Dir, "*.go"))
		extra = append(extra, m...)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "day45", "*_test.go"))
	extra = append(extra, m...)
	for _, f := range extra {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if !slices.Contains(pristine, rel) {
			notes = append(notes, "ignored (not one of the course's test files): "+rel)
		}
	}
	return tampered, notes
}

// compareGiven notes the given files of day45/ that the submission changed. Grading uses them as they are.
func compareGiven(root, dir string) []string {
	var notes []string
	for _, f := range progression.GivenFiles() {
		want, err := os.ReadFile(filepath.Join(root, "day45", f))
		if err != nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, "day45", f))
		switch {
		case err != nil:
			notes = append(notes, "given file missing: day45/"+f)
		case !bytes.Equal(normalize(got), normalize(want)):
			notes = append(notes, "given file changed (graded as it is): day45/"+f)
		}
	}
	return notes
}

// normalize makes a file's bytes comparable across operating systems: CRLF line ends become LF.
func normalize(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// buildOverlay maps the files of root/day45 to the submission's, for go -overlay: every non-test file of the
// submission's day45/ (and its subdirectories) replaces or adds to root's, every non-test file of root/day45 that the
// submission lacks is deleted. The test files stay root's: the pristine tests run against the submission's code,
// with root's go.mod, steps/ and testutil/.
func buildOverlay(root, dir string) (map[string]string, error) {
	overlay := map[string]string{}
	src := filepath.Join(dir, "day45")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		// Only the submission's own Go code: no symlinks (they could point anywhere), no tests (the course's run).
		if d.Type().IsRegular() && strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			overlay[filepath.Join(root, "day45", rel)] = path
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	mine, _ := filepath.Glob(filepath.Join(root, "day45", "*.go"))
	for _, f := range mine {
		if _, ok := overlay[f]; !ok && !strings.HasSuffix(f, "_test.go") {
			overlay[f] = "" // the submission deleted it
		}
	}
	return overlay, nil
}

// writeOverlay writes the JSON file that go -overlay reads.
func writeOverlay(m map[string]string) (string, error) {
	b, err := json.Marshal(struct{ Replace map[string]string }{m})
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "workbook-grade-*.json")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// sameFile reports whether two files exist with the same content (line ends aside).
func sameFile(a, b string) bool {
	x, errA := os.ReadFile(a)
	y, errB := os.ReadFile(b)
	return errA == nil && errB == nil && bytes.Equal(normalize(x), normalize(y))
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// gradeEnv makes every grading run the same whatever the instructor's environment says: learner mode (no GOFLAGS,
// so no -tags solution), no toolchain download, no go.work, and the embedded miniredis rather than a shared
// REDIS_ADDR.
func gradeEnv() []string {
	return []string{"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "REDIS_ADDR="}
}

// goCmd runs the go command in dir and returns its combined output and whether it succeeded.
func goCmd(ctx context.Context, dir string, timeout time.Duration, args ...string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gradeEnv()...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Sprintf("go %s: timed out after %s", strings.Join(args, " "), timeout), false
	}
	return string(out), err == nil
}

// vetLine matches a go vet finding in a day45 file: "day45/jitter.go:12:2: message". Through the overlay, vet
// names the submission's file, so any directory may come before day45/.
var vetLine = regexp.MustCompile(`^(?:vet: )?(?:.*[/\\])?day45[/\\]([^/\\:\s]+\.go):(\d+)(?::\d+)?: (.+)$`)

// runVet runs go vet on the submission's day45 package and returns its findings by file ("jitter.go:12: message");
// findings in other files are notes.
func runVet(ctx context.Context, root, overlay string, timeout time.Duration) (map[string][]string, []string) {
	out, ok := goCmd(ctx, root, timeout, "vet", "-overlay", overlay, "./day45")
	findings := map[string][]string{}
	if ok {
		return findings, nil
	}
	var notes []string
	stepFile := map[string]bool{}
	for _, s := range progression.Steps() {
		stepFile[s.File] = true
	}
	matched := false
	for _, l := range strings.Split(out, "\n") {
		m := vetLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		matched = true
		f := m[1] + ":" + m[2] + ": " + m[3]
		if stepFile[m[1]] {
			findings[m[1]] = append(findings[m[1]], f)
		} else {
			notes = append(notes, "vet (no step's file, no points lost): day45/"+f)
		}
	}
	if !matched {
		notes = append(notes, "go vet failed: "+firstLines(out, 4))
	}
	return findings, notes
}

// compilerLines drops go build's "# package" headers, keeping the compiler's messages.
func compilerLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "# ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
