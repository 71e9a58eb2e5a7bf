package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"day45-thundering-herd/internal/progression"
)

// Scoring by the rubric of CHECKLIST.md.

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
		e.FirstFailure = progression.FirstLines(r.FirstFailure, 12)
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
		e.Reasons = append(e.Reasons, "tests do not compile: "+progression.FirstLines(compilerLines(r.FirstFailure), 1))
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
