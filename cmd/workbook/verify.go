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

func verifyCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	pos, err := parseFlags(newFlags("verify"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("verify takes no arguments")
	}
	return runVerify(ctx, root, stdout, progression.Verify)
}

// runVerify runs verify, writes one line per stage and then the violations. It returns errFailed when there is a
// violation or go test could not run, so that the exit code is 1.
func runVerify(ctx context.Context, root string, w io.Writer, verify verifier) error {
	fmt.Fprintf(w, "verify: for N = 0..%d, with day45/'s files of steps 1..N replaced by solutions/day45/'s (go test -overlay),\n", len(progression.Steps()))
	fmt.Fprintf(w, "exactly steps 1..N must pass in learner mode, every other step fail by assertion in every test,\n")
	fmt.Fprintf(w, "and the capstone pass only at N = %d; the given files of day45/ must equal solutions/day45/'s.\n\n", len(progression.Steps()))
	start := time.Now()
	last := start
	violations, err := verify(ctx, root, func(st progression.Stage) {
		fmt.Fprintln(w, stageLine(st, time.Since(last)))
		last = time.Now()
	})
	if err != nil {
		fmt.Fprintf(w, "\nverify: go test could not run: %v\n", err)
		return errFailed
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
	fmt.Fprintf(&b, "N=%d ", st.N)
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
