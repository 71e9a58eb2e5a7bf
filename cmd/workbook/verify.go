package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"day45-thundering-herd/internal/progression"
)

// verifier checks the progression invariant; progression.Verify is the real one (the same code as the solution-mode
// test internal/progression/progression_test.go), tests pass fakes.
type verifier func(ctx context.Context, root string, report func(progression.Stage)) ([]string, error)

// mistakeVerifier runs the catalogues of wrong solutions (steps/*/testdata/mistakes); progression.VerifyMistakes is
// the real one, tests pass fakes.
type mistakeVerifier func(ctx context.Context, root string, report func(progression.MistakeResult)) ([]string, error)

func verifyCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify")
	onlyMistakes := fs.Bool("mistakes", false, "run only the catalogues of wrong solutions, not the stages")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("verify takes no arguments")
	}
	stages := verifier(progression.Verify)
	if *onlyMistakes {
		stages = nil
	}
	return runVerify(ctx, root, stdout, stages, progression.VerifyMistakes)
}

// runVerify runs verify (skipped when nil) and then mistakes, writes one line per stage and per mistake, and then
// the violations. It returns errFailed when there is a violation or go test could not run, so that the exit code
// is 1.
func runVerify(ctx context.Context, root string, w io.Writer, verify verifier, mistakes mistakeVerifier) error {
	start := time.Now()
	var violations []string
	if verify != nil {
		fmt.Fprintf(w, "verify: for N = 0..%d, with day45/'s files of steps 1..N replaced by solutions/day45/'s (go test -overlay),\n", len(progression.Steps()))
		fmt.Fprintf(w, "exactly steps 1..N must pass in learner mode, every other step fail by assertion in every test,\n")
		fmt.Fprintf(w, "and the capstone pass from N = %d (the end of the core day); the given files of day45/ must equal solutions/day45/'s.\n\n", progression.CoreSteps())
		last := start
		v, err := verify(ctx, root, func(st progression.Stage) {
			fmt.Fprintln(w, stageLine(st, time.Since(last)))
			last = time.Now()
		})
		if err != nil {
			fmt.Fprintf(w, "\nverify: go test could not run: %v\n", err)
			return errFailed
		}
		violations = v
	}
	if mistakes != nil {
		fmt.Fprintf(w, "\nverify: every wrong solution in steps/*/%s must fail its step's tests (learner mode, -race for a race,\n", progression.MistakesDir)
		fmt.Fprintf(w, "earlier steps from solutions/day45/) by assertion, and print the text its header wants.\n\n")
		caught := 0
		v, err := mistakes(ctx, root, func(r progression.MistakeResult) {
			if r.Violation == "" {
				caught++
			}
			fmt.Fprintln(w, mistakeLine(r))
		})
		if err != nil {
			fmt.Fprintf(w, "\nverify: go test could not run: %v\n", err)
			return errFailed
		}
		fmt.Fprintf(w, "mistakes: %d caught, %d not\n", caught, len(v))
		violations = append(violations, v...)
	}
	if len(violations) == 0 {
		fmt.Fprintf(w, "\nverify: OK, no violations (%s).\n", time.Since(start).Round(time.Second))
		return nil
	}
	fmt.Fprintf(w, "\nverify: %d violation(s):\n", len(violations))
	for _, v := range violations {
		fmt.Fprintf(w, "  - %s\n", v)
	}
	return errFailed
}

// stageLine is one stage's report: each package's outcome, marked where it breaks the invariant.
func stageLine(st progression.Stage, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "N=%-2d", st.N)
	steps := progression.Steps()
	for i, r := range st.Results {
		name := "capstone"
		if i < len(steps) {
			name = steps[i].Dir[:2]
		}
		cell := string(r.Outcome)
		if r.Tests > 0 {
			cell += fmt.Sprintf("(%d/%d)", r.PassedTests, r.Tests)
		}
		if i < len(st.Results)-1 {
			cell = fmt.Sprintf("%-12s", cell)
		}
		fmt.Fprintf(&b, " %s:%s", name, cell)
	}
	if len(st.Violations) == 0 {
		fmt.Fprintf(&b, "  ok")
	} else {
		fmt.Fprintf(&b, "  VIOLATION x%d", len(st.Violations))
	}
	if took > 0 {
		fmt.Fprintf(&b, "  (%s)", took.Round(100*time.Millisecond))
	}
	return strings.TrimRight(b.String(), " ")
}

// mistakeLine is one mistake's report: caught by which tests, or what went wrong.
func mistakeLine(r progression.MistakeResult) string {
	status := "caught by " + r.CaughtBy()
	if r.Outcome == progression.Raced {
		status = "caught by the race detector in " + r.CaughtBy()
	}
	if r.Violation != "" {
		status = "NOT CAUGHT: " + string(r.Result.Outcome)
		if r.Result.Outcome != progression.Passed && r.Result.Outcome == r.Outcome {
			status += ", want text missing"
		}
	}
	return fmt.Sprintf("  %-16s %-28s %s  (%s)", r.Step.Dir, r.Name, status, r.Took.Round(100*time.Millisecond))
}
