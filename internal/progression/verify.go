package progression

import (
	"context"
	"fmt"
	"strings"
)

// Stage is one run of the progression check: steps 1..N done with the reference files.
type Stage struct {
	N          int
	Results    []PackageResult // one per step, then the capstone
	Violations []string
}

// VerifyStage checks that with steps 1..n taken from the reference, exactly steps 1..n pass in learner mode, that
// every test of every other step fails by assertion (never by a build failure, panic or timeout), and that the
// capstone passes once the core day is done (n ≥ CoreSteps), whatever the advanced track.
func VerifyStage(ctx context.Context, root string, n int) (Stage, error) {
	steps := Steps()
	pkgs := make([]string, 0, len(steps)+1)
	for _, s := range steps {
		pkgs = append(pkgs, s.Package())
	}
	pkgs = append(pkgs, CapstonePackage)
	res, err := Run(ctx, root, pkgs, Options{Overlay: Overlay(root, n)})
	if err != nil {
		return Stage{N: n}, err
	}
	st := Stage{N: n, Results: res}
	for i, r := range res {
		wantPass := i < n // step i+1
		name, isStep := "capstone", i < len(steps)
		if isStep {
			name = "step " + steps[i].Dir
		} else {
			wantPass = n >= CoreSteps()
		}
		switch {
		case wantPass && r.Outcome != Passed:
			st.Violations = append(st.Violations, fmt.Sprintf("N=%d: %s should pass but ended %s: %s", n, name, r.Outcome, oneLine(r.FirstFailure)))
		case !wantPass && r.Outcome != Failed:
			st.Violations = append(st.Violations, fmt.Sprintf("N=%d: %s should fail by assertion but ended %s: %s", n, name, r.Outcome, oneLine(r.FirstFailure)))
		case !wantPass && isStep && r.PassedTests > 0: // a step's every test needs its own defense
			st.Violations = append(st.Violations, fmt.Sprintf("N=%d: %s should fail in every test, but %d of %d passed", n, name, r.PassedTests, r.Tests))
		}
	}
	return st, nil
}

// Verify runs every stage N = 0..len(Steps()) and the given-file check; report receives each stage as it finishes.
func Verify(ctx context.Context, root string, report func(Stage)) ([]string, error) {
	violations := CheckGivenFiles(root)
	for n := 0; n <= len(Steps()); n++ {
		st, err := VerifyStage(ctx, root, n)
		if err != nil {
			return violations, err
		}
		if report != nil {
			report(st)
		}
		violations = append(violations, st.Violations...)
	}
	return violations, nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
