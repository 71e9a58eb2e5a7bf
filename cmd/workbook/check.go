package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"day45-thundering-herd/internal/progression"
)

// checkCmd runs one step's tests the way grading does (race detector, goleak), -count times in a row, so that a
// learner finds a flaky defense before the grader does.
func checkCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check")
	count := fs.Int("count", 10, "how many times to run the step's tests in a row")
	timeout := fs.Duration("timeout", 5*time.Minute, "go test -timeout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *count < 1 {
		return usageError("check には Step の番号を 1 つと、1 以上の -count を付けます：check 2 -count 20")
	}
	step, ok := findStep(pos[0])
	if !ok {
		return usageError("check：Step %q はありません。Step は 1..%d です", pos[0], len(progression.Steps()))
	}
	fmt.Fprintf(stderr, "Step %s のテストを -race で %d 回続けて実行しています…\n", step.Dir, *count)
	res, err := progression.Run(ctx, root, []string{step.Package()}, progression.Options{Race: true, Count: *count, Timeout: *timeout})
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("go test reported %d packages, want 1", len(res))
	}
	r := res[0]
	if r.Outcome == progression.Passed {
		fmt.Fprintf(stdout, "Step %s：%d 回すべて通りました（-race、goleak つき）。\n", step.Dir, *count)
		return nil
	}
	fmt.Fprintf(stdout, "Step %s：%d 回の実行で %s\n", step.Dir, *count, describeOutcome(r))
	if r.FirstFailure != "" {
		fmt.Fprintln(stdout, indent(linkTests(r.FirstFailure, "steps/"+step.Dir), "    "))
	}
	return errFailed
}
