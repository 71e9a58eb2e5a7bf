package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	bonusPoints    = 5  // per advanced step, like a step's points, on top of the core score
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
	Bonus        bool     `json:"bonus,omitempty"` // an advanced step: its points are bonus points
}

// Submission is the grade of one learner's checkout.
type Submission struct {
	Name     string      `json:"name"`
	Dir      string      `json:"dir"`
	Score    int         `json:"score"` // of the core day: its steps and the capstone
	Max      int         `json:"max"`
	Bonus    int         `json:"bonus"` // of the advanced steps, on top of Score
	BonusMax int         `json:"bonus_max"`
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
		fmt.Fprintf(g.log, "grade: %s: %s in %.0fs\n", s.name, sub.scoreText(), sub.Seconds)
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
		e := StepGrade{Step: n, Dir: st.Dir, Title: st.Title, Max: stepPoints, Outcome: "not-run", Reasons: []string{}}
		if st.Advanced {
			e.Max, e.Bonus = bonusPoints, true
			sub.BonusMax += bonusPoints
		} else {
			sub.Max += stepPoints
		}
		sub.Steps = append(sub.Steps, e)
	}
	if g.opts.Capstone {
		sub.Capstone = &StepGrade{Dir: "capstone", Title: "the lesson's expected output (day45/capstone_test.go)", Max: capstonePoints, Outcome: "not-run", Reasons: []string{}}
		sub.Max += capstonePoints
	}
	return sub
}

// scoreText is the submission's score for people: "87/100", with "+ 5/5 bonus" when advanced steps were graded.
func (sub *Submission) scoreText() string {
	t := fmt.Sprintf("%d/%d", sub.Score, sub.Max)
	if sub.BonusMax > 0 {
		t += fmt.Sprintf(" + %d/%d bonus", sub.Bonus, sub.BonusMax)
	}
	return t
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
		sub.Score, sub.Bonus = 0, 0
		for _, e := range sub.all() {
			if e.Bonus {
				sub.Bonus += e.Score
			} else {
				sub.Score += e.Score
			}
		}
		sub.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
	}()
	w, ok := g.prepare(ctx, &sub, dir)
	if !ok {
		return sub
	}
	defer w.close()
	vet, ok := g.build(ctx, &sub, w)
	if ok {
		g.test(ctx, &sub, w, vet)
	}
	return sub
}

// work is a submission ready to build and test: its overlay, its sandbox, what it changed of the course's tests,
// and clean, which makes the paths in go's output relative.
type work struct {
	overlay  map[string]string
	ovFile   string
	sb       *sandbox
	tampered []tamper
	clean    func(string) string
}

func (w *work) close() {
	w.sb.close()
	os.Remove(w.ovFile)
}

// prepare checks the submission, compares it with the course, rejects what may not run and sets up the sandbox. It
// reports false, with sub failed and its reason, when the submission cannot be tested.
func (g *grader) prepare(ctx context.Context, sub *Submission, dir string) (*work, bool) {
	if reason := checkSubmission(dir); reason != "" {
		sub.failAll("not-run", reason)
		return nil, false
	}
	w := &work{clean: pathCleaner(g.root, dir)}
	var notes []string
	w.tampered, notes = compareTests(g.root, dir)
	sub.Notes = append(append(sub.Notes, notes...), compareGiven(g.root, dir)...)
	if !sameFile(filepath.Join(g.root, "go.mod"), filepath.Join(dir, "go.mod")) {
		sub.Notes = append(sub.Notes, "go.mod differs from the course's: graded with the course's go.mod and go.sum")
	}
	var err error
	if w.overlay, err = buildOverlay(g.root, dir); err != nil {
		sub.failAll("not-run", "grader: cannot read the submission: "+err.Error())
		return nil, false
	}
	if bad := checkImports(w.overlay); len(bad) > 0 {
		sub.failAll("rejected", "rejected: "+strings.Join(bad, "; "))
		return nil, false
	}
	if w.sb, err = newSandbox(ctx, g.isolated(ctx)); err != nil {
		sub.failAll("not-run", "grader: cannot prepare the sandbox: "+err.Error())
		return nil, false
	}
	if w.ovFile, err = progression.WriteOverlay(w.overlay); err != nil {
		w.sb.close()
		sub.failAll("not-run", "grader: cannot write the overlay: "+err.Error())
		return nil, false
	}
	// Tampering is reported whatever the tests say: the pristine tests run, but the affected entries score 0.
	for _, t := range w.tampered {
		sub.Problems = append(sub.Problems, t.reason())
	}
	return w, true
}

// pathCleaner makes the paths in go's output relative: they name the grader's files or, through the overlay, the
// submission's, and go prints a path relative to its working directory (the grader's root) when that is shorter.
func pathCleaner(root, dir string) func(string) string {
	absDir, _ := filepath.Abs(dir)
	relDir, relErr := filepath.Rel(root, absDir)
	return func(s string) string {
		s = strings.ReplaceAll(s, absDir+string(filepath.Separator), "")
		if relErr == nil && relDir != "." {
			s = strings.ReplaceAll(s, relDir+string(filepath.Separator), "")
		}
		return strings.ReplaceAll(s, root+string(filepath.Separator), "")
	}
}

// build compiles the submission's day45 and vets it; false means it does not compile (sub failed).
func (g *grader) build(ctx context.Context, sub *Submission, w *work) (map[string][]string, bool) {
	if out, ok := goCmd(ctx, g.root, buildTimeout, "build", "-overlay", w.ovFile, "./day45"); !ok {
		sub.failAll(string(progression.BuildFailed), "does not compile: "+progression.FirstLines(compilerLines(w.clean(out)), 8))
		return nil, false
	}
	vet, vetNotes := runVet(ctx, g.root, w.ovFile, buildTimeout)
	sub.Notes = append(sub.Notes, vetNotes...)
	return vet, true
}

// test runs the pristine tests of the selected steps in the sandbox and scores each entry.
func (g *grader) test(ctx context.Context, sub *Submission, w *work, vet map[string][]string) {
	var pkgs []string
	for _, e := range sub.Steps {
		pkgs = append(pkgs, "./steps/"+e.Dir)
	}
	if sub.Capstone != nil {
		pkgs = append(pkgs, progression.CapstonePackage)
	}
	if len(pkgs) == 0 {
		return
	}
	// A backstop over go test's own -timeout (which cmd/go enforces with a kill one minute later).
	backstop := time.Duration(len(pkgs))*g.opts.Timeout + 2*time.Minute
	runCtx, cancel := context.WithTimeout(ctx, backstop)
	defer cancel()
	res, err := g.run(runCtx, g.root, pkgs, progression.Options{Overlay: w.overlay, Race: true, Timeout: g.opts.Timeout,
		Env: append(gradeEnv(), w.sb.env...), Wrap: w.sb.wrap})
	if err != nil {
		reason := "go test could not run: " + progression.FirstLines(w.clean(err.Error()), 8)
		if runCtx.Err() != nil && ctx.Err() == nil {
			reason = fmt.Sprintf("timed out: go test ran longer than %s", backstop)
		}
		sub.failAll("not-run", reason)
		return
	}
	for i, e := range sub.all() {
		if i >= len(res) {
			break
		}
		r := res[i]
		r.FirstFailure, r.Output = w.clean(r.FirstFailure), w.clean(r.Output)
		score(e, r, g.opts.Timeout, vet[fileOf(e.Step)], w.tampered)
		if p := entryProblem(e); p != "" {
			sub.Problems = append(sub.Problems, p)
		}
	}
}
