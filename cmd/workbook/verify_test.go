package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// fakeVerify replays stages the way progression.Verify reports them, with the given given-file problems first.
func fakeVerify(given []string, stages ...progression.Stage) verifier {
	return func(ctx context.Context, root string, report func(progression.Stage)) ([]string, error) {
		violations := given
		for _, st := range stages {
			report(st)
			violations = append(violations, st.Violations...)
		}
		return violations, nil
	}
}

func stage(n int, violations ...string) progression.Stage {
	st := progression.Stage{N: n, Violations: violations}
	for i := range progression.Steps() {
		r := progression.PackageResult{Outcome: progression.Failed, Tests: 3}
		if i < n {
			r = progression.PackageResult{Outcome: progression.Passed, Tests: 3, PassedTests: 3}
		}
		st.Results = append(st.Results, r)
	}
	c := progression.PackageResult{Outcome: progression.Failed, Tests: 4}
	if n >= progression.CoreSteps() {
		c = progression.PackageResult{Outcome: progression.Passed, Tests: 4, PassedTests: 4}
	}
	st.Results = append(st.Results, c)
	return st
}

func TestVerifyReport(t *testing.T) {
	var all []progression.Stage
	for n := 0; n <= len(progression.Steps()); n++ {
		all = append(all, stage(n))
	}
	var out bytes.Buffer
	err := runVerify(context.Background(), "/r", &out, fakeVerify(nil, all...), nil)
	require.NoError(t, err, "no violations:\n%s", out.String())
	for _, want := range []string{
		"N=0  01:fail(0/3)    02:fail(0/3)",
		"N=2  01:pass(3/3)    02:pass(3/3)    03:fail(0/3)",
		"capstone:pass(4/4)  ok",
		"verify: OK, no violations",
	} {
		assert.Contains(t, out.String(), want, "report lacks %q", want)
	}
	assert.Equal(t, len(progression.Steps())+1, strings.Count(out.String(), "\nN="), "want one line per stage N=0..%d:\n%s", len(progression.Steps()), out.String())

	bad := cloneStages(all)
	bad[3] = stage(3, "N=3: step 04-breaker should fail by assertion but ended panic: boom")
	bad[3].Results[3].Outcome = progression.Panicked
	out.Reset()
	err = runVerify(context.Background(), "/r", &out, fakeVerify([]string{"given file config.go differs between day45/ and solutions/day45/"}, bad...), nil)
	assert.ErrorIs(t, err, errFailed, "violations: want errFailed (exit 1)")
	for _, want := range []string{"04:panic(0/3)", "VIOLATION x1", "verify: 2 violation(s):", "  - given file config.go differs", "  - N=3: step 04-breaker should fail by assertion but ended panic"} {
		assert.Contains(t, out.String(), want, "report lacks %q", want)
	}

	out.Reset()
	broken := func(ctx context.Context, root string, report func(progression.Stage)) ([]string, error) {
		return nil, errors.New("go: command not found")
	}
	err = runVerify(context.Background(), "/r", &out, broken, nil)
	assert.ErrorIs(t, err, errFailed, "go failing: output:\n%s", out.String())
	assert.Contains(t, out.String(), "go test could not run: go: command not found", "go failing: output")
}

func cloneStages(s []progression.Stage) []progression.Stage {
	return append([]progression.Stage(nil), s...)
}

// fakeMistakes replays mistake results the way progression.VerifyMistakes reports them.
func fakeMistakes(results ...progression.MistakeResult) mistakeVerifier {
	return func(ctx context.Context, root string, report func(progression.MistakeResult)) ([]string, error) {
		var violations []string
		for _, r := range results {
			report(r)
			if r.Violation != "" {
				violations = append(violations, r.Violation)
			}
		}
		return violations, nil
	}
}

func TestVerifyReport_Mistakes(t *testing.T) {
	steps := progression.Steps()
	caught := progression.MistakeResult{
		Mistake: progression.Mistake{Step: steps[2], Name: "get-then-del", Outcome: progression.Failed},
		Result:  progression.PackageResult{Outcome: progression.Failed, FailedTests: []string{"TestRelease_IsOneAtomicStep"}},
	}
	raced := progression.MistakeResult{
		Mistake: progression.Mistake{Step: steps[5], Name: "plain-increments", Outcome: progression.Raced},
		Result:  progression.PackageResult{Outcome: progression.Raced, FailedTests: []string{"TestMetrics_X"}},
	}
	survivor := progression.MistakeResult{
		Mistake:   progression.Mistake{Step: steps[0], Name: "one-sided", Outcome: progression.Failed},
		Result:    progression.PackageResult{Outcome: progression.Passed},
		Violation: "mistake 01-jitter/one-sided (x): the step's tests pass on it; add a test that fails on it",
	}
	var out bytes.Buffer
	err := runVerify(context.Background(), "/r", &out, nil, fakeMistakes(caught, raced))
	require.NoError(t, err, "every mistake caught:\n%s", out.String())
	for _, want := range []string{
		"03-lock          get-then-del",
		"caught by TestRelease_IsOneAtomicStep",
		"caught by the race detector in TestMetrics_X",
		"mistakes: 2 caught, 0 not",
		"verify: OK, no violations",
	} {
		assert.Contains(t, out.String(), want, "report lacks %q", want)
	}
	assert.NotContains(t, out.String(), "N=0", "-mistakes: no stages")

	out.Reset()
	err = runVerify(context.Background(), "/r", &out, fakeVerify(nil, stage(0)), fakeMistakes(caught, survivor))
	assert.ErrorIs(t, err, errFailed, "a survivor: want errFailed (exit 1)")
	for _, want := range []string{"N=0 ", "one-sided", "NOT CAUGHT: pass", "mistakes: 1 caught, 1 not", "verify: 1 violation(s):", "  - mistake 01-jitter/one-sided"} {
		assert.Contains(t, out.String(), want, "report lacks %q", want)
	}
}
