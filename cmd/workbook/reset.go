package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"day45-thundering-herd/internal/progression"
	"day45-thundering-herd/steps"
)

// resetCmd restores the starter of step N's file in day45/ and prints what was thrown away.
func resetCmd(_ context.Context, root string, args []string, stdout, _ io.Writer) error {
	step, err := oneStep("reset", args)
	if err != nil {
		return err
	}
	starter, err := steps.Starter(step.Dir)
	if err != nil {
		return err
	}
	path := filepath.Join(root, "day45", step.File)
	mine, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if bytes.Equal(normalize(mine), normalize(starter)) {
		fmt.Fprintf(stdout, "%s は最初の状態のままです。何も変えていません。\n", link(step.File, 1))
		return nil
	}
	if err := os.WriteFile(path, starter, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s を最初の状態に戻しました。捨てた変更（- があなたの版、+ が最初の版）：\n\n%s", link(step.File, 1),
		lineDiff(string(mine), string(starter)))
	return nil
}

// solutionCmd shows the reference of step N's file and how the learner's differs, once step N passes: reading the
// reference before solving the step would skip the lesson.
func solutionCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	step, err := oneStep("solution", args)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Step %s のテストを -race で実行して、通っているか確かめています…\n", step.Dir)
	res, err := progression.Run(ctx, root, []string{step.Package()}, progression.Options{Race: true})
	if err != nil {
		return err
	}
	if len(res) != 1 || res[0].Outcome != progression.Passed {
		fmt.Fprintf(stdout, "参照実装は Step %s が通ってから表示します。いまの状態：%s\n", step.Dir, describeOutcome(res[0]))
		return errFailed
	}
	ref, err := os.ReadFile(filepath.Join(root, "solutions", "day45", step.File))
	if err != nil {
		return err
	}
	mine, err := os.ReadFile(filepath.Join(root, "day45", step.File))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "参照実装 solutions/day45/%s：\n\n%s\n", step.File, ref)
	if bytes.Equal(normalize(mine), normalize(ref)) {
		fmt.Fprintln(stdout, "あなたの版は参照実装と同じです。")
		return nil
	}
	fmt.Fprintf(stdout, "あなたの版との違い（- があなたの版、+ が参照実装）：\n\n%s", lineDiff(string(mine), string(ref)))
	return nil
}

// oneStep reads the single step argument of cmd.
func oneStep(cmd string, args []string) (progression.Step, error) {
	pos, err := parseFlags(newFlags(cmd), args)
	if err != nil {
		return progression.Step{}, err
	}
	if len(pos) != 1 {
		return progression.Step{}, usageError("%s には Step の番号を 1 つ付けます：%s 2", cmd, cmd)
	}
	step, ok := findStep(pos[0])
	if !ok {
		return progression.Step{}, usageError("%s：Step %q はありません。Step は 1..%d です", cmd, pos[0], len(progression.Steps()))
	}
	return step, nil
}

// link names a line of a day45/ file as editors and terminals make clickable: day45/lock.go:42.
func link(file string, line int) string { return fmt.Sprintf("day45/%s:%d", file, line) }

// lineDiff shows how b differs from a, line by line (- only in a, + only in b), with two lines of context around
// each change. Files here are a few hundred lines, so the quadratic longest-common-subsequence table is cheap.
func lineDiff(a, b string) string {
	x, y := strings.Split(strings.TrimRight(a, "\n"), "\n"), strings.Split(strings.TrimRight(b, "\n"), "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var lines []string
	var changed []bool
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines, changed = append(lines, "  "+x[i]), append(changed, false)
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines, changed = append(lines, "- "+x[i]), append(changed, true)
			i++
		default:
			lines, changed = append(lines, "+ "+y[j]), append(changed, true)
			j++
		}
	}
	return withContext(lines, changed, 2)
}

// withContext keeps the changed lines and n lines around each, marking the gaps with "…".
func withContext(lines []string, changed []bool, n int) string {
	var b strings.Builder
	gap := false
	for k := range lines {
		near := false
		for d := max(0, k-n); d <= min(len(lines)-1, k+n); d++ {
			near = near || changed[d]
		}
		if !near {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteString("  …\n")
		}
		gap = false
		b.WriteString(lines[k] + "\n")
	}
	return b.String()
}
