package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"day45-thundering-herd/internal/progression"
)

// runner runs go test -json on packages of the module at root; progression.Run is the real one, tests pass fakes.
type runner func(ctx context.Context, root string, pkgs []string, o progression.Options) ([]progression.PackageResult, error)

// progressOpts are the learner's flags of the progress view and of watch.
type progressOpts struct {
	Timeout time.Duration // go test -timeout per test binary
	Race    bool          // run the tests with -race, as grading does (the default; -fast turns it off)
	ASCII   bool          // no emoji in the state column
}

// define adds the flags of o to fs.
func (o *progressOpts) define(fs *flag.FlagSet) {
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "go test -timeout for each package")
	o.Race = true
	fs.BoolFunc("fast", "skip the race detector: quicker, but a race that grading scores 0 goes unseen", func(string) error {
		o.Race = false
		return nil
	})
	fs.BoolVar(&o.ASCII, "ascii", false, "plain ASCII state column")
}

func (o progressOpts) options() progression.Options {
	return progression.Options{Race: o.Race, Timeout: o.Timeout}
}

// snapshot is the learner's progress: one result per step, in course order, and the capstone's.
type snapshot struct {
	Steps    []progression.PackageResult
	Capstone progression.PackageResult
}

// learnerPackages are the packages of the progress view: every step, then the capstone.
func learnerPackages() []string {
	var pkgs []string
	for _, s := range progression.Steps() {
		pkgs = append(pkgs, s.Package())
	}
	return append(pkgs, progression.CapstonePackage)
}

// loadSnapshot runs every step's tests and the capstone's in learner mode.
func loadSnapshot(ctx context.Context, root string, o progressOpts, run runner) (snapshot, error) {
	res, err := run(ctx, root, learnerPackages(), o.options())
	if err != nil {
		return snapshot{}, err
	}
	n := len(progression.Steps())
	if len(res) != n+1 {
		return snapshot{}, fmt.Errorf("go test reported %d packages, want %d", len(res), n+1)
	}
	return snapshot{Steps: res[:n], Capstone: res[n]}, nil
}

// done counts the steps of s.Steps[from:to] whose tests all pass.
func (s snapshot) done(from, to int) int {
	n := 0
	for _, r := range s.Steps[from:to] {
		if r.Outcome == progression.Passed {
			n++
		}
	}
	return n
}

// current returns the index of the first core step that does not pass, or CoreSteps when the core day passes: the
// advanced track is optional and comes after the capstone.
func (s snapshot) current() int {
	core := progression.CoreSteps()
	for i, r := range s.Steps[:core] {
		if r.Outcome != progression.Passed {
			return i
		}
	}
	return core
}

func progressCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	var o progressOpts
	fs := newFlags("workbook")
	o.define(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unknown command %q", pos[0])
	}
	fmt.Fprintln(stderr, "各 Step のテストをあなたの day45/ に対して実行しています（go test -json ./steps/... ./day45/）…")
	snap, err := loadSnapshot(ctx, root, o, progression.Run)
	if err != nil {
		return err
	}
	printProgress(stdout, snap, o.ASCII)
	return nil
}

// stateMarks are the state column's words, with emoji or plain ASCII.
type stateMarks struct{ done, current, todo string }

func marks(ascii bool) stateMarks {
	if ascii {
		return stateMarks{"[x] 完了", "[>] いまここ", "[ ] 未着手"}
	}
	return stateMarks{"✅ 完了", "▶ いまここ", "· 未着手"}
}

func testsCell(r progression.PackageResult) string {
	if r.Tests == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.PassedTests, r.Tests)
}

// outcomeNote explains an outcome that is not an honest pass or assertion failure, for the state column.
func outcomeNote(r progression.PackageResult) string {
	switch r.Outcome {
	case progression.Passed, progression.Failed:
		return ""
	case "":
		return "（未実行）"
	}
	return "（" + string(r.Outcome) + "）"
}

// printProgress writes the progress table, the current step's first failure and what to do next.
func printProgress(w io.Writer, s snapshot, ascii bool) {
	m := marks(ascii)
	steps := progression.Steps()
	cur := s.current()
	fmt.Fprintf(w, "Day 45 ワークブック：サンダリングハード対策（あなたの day45/ を各 Step のテストで確認）\n\n")
	core := progression.CoreSteps()
	fmt.Fprintf(w, "  %-16s %s %s %s\n", "Step", pad("内容", 24), pad("テスト", 6), "状態")
	row := func(i int, current bool) {
		st, r := steps[i], s.Steps[i]
		state := m.todo
		switch {
		case r.Outcome == progression.Passed:
			state = m.done
		case current:
			state = m.current
		}
		fmt.Fprintf(w, "  %-16s %s %-6s %s%s\n", st.Dir, pad(st.JA, 24), testsCell(r), state, outcomeNote(r))
	}
	for i := range core {
		row(i, i == cur)
	}
	capState := m.todo
	switch {
	case s.Capstone.Outcome == progression.Passed:
		capState = m.done
	case cur == core:
		capState = m.current
	}
	fmt.Fprintf(w, "  %-16s %s %-6s %s%s\n", "capstone", pad("day45/capstone_test.go", 24), testsCell(s.Capstone), capState, outcomeNote(s.Capstone))
	if len(steps) > core {
		fmt.Fprintf(w, "  発展コース（任意。採点ではボーナス）\n")
		for i := core; i < len(steps); i++ {
			row(i, false)
		}
	}
	fmt.Fprintf(w, "\n%d/%d Step 完了。", s.done(0, core), core)
	if len(steps) > core {
		fmt.Fprintf(w, "発展コース %d/%d。", s.done(core, len(steps)), len(steps)-core)
	}
	fmt.Fprintln(w)

	if cur < core {
		st, r := steps[cur], s.Steps[cur]
		fmt.Fprintf(w, "\nいまの Step %s（%s）：%s\n", st.Dir, st.JA, describeOutcome(r))
		if r.FirstFailure != "" {
			fmt.Fprintln(w, indent(linkTests(r.FirstFailure, "steps/"+st.Dir), "    "))
		}
		fmt.Fprintf(w, "\n次に：steps/%s/README.md を読み、day45/%s を編集する\n", st.Dir, st.File)
		fmt.Fprintf(w, "      確認：go test %s/    行き詰まったら：go run ./cmd/workbook hint %d\n", st.Package(), st.N)
		return
	}
	if s.Capstone.Outcome != progression.Passed {
		fmt.Fprintf(w, "\nすべての Step が通りました。仕上げ（capstone）はまだです：%s\n", describeOutcome(s.Capstone))
		if s.Capstone.FirstFailure != "" {
			fmt.Fprintln(w, indent(linkTests(s.Capstone.FirstFailure, "day45"), "    "))
		}
		fmt.Fprintf(w, "\n次に：day45/README.md を読み、go test -v ./day45/ のログを「期待される挙動」と比べる\n")
		return
	}
	fmt.Fprintf(w, "\nDay 45 完了：すべての Step と仕上げのテストが通りました。提出の前に、採点と同じ方法で実行してください：\n")
	fmt.Fprintf(w, "      go test -race -count=1 ./steps/... ./day45/ && go vet ./day45/\n")
	for i := core; i < len(steps); i++ {
		if s.Steps[i].Outcome != progression.Passed {
			st := steps[i]
			fmt.Fprintf(w, "\nさらに進むなら、発展コースの %s（%s、目安 %d 分）：steps/%s/README.md を読み、day45/%s を編集する\n",
				st.Dir, st.JA, st.Minutes, st.Dir, st.File)
			return
		}
	}
}

// describeOutcome says in words how a package's tests ended.
func describeOutcome(r progression.PackageResult) string {
	switch r.Outcome {
	case progression.Passed:
		return "すべてのテストが通ります"
	case progression.Failed:
		return fmt.Sprintf("%d 個中 %d 個のテストが失敗しています。最初の失敗：", r.Tests, r.Tests-r.PassedTests)
	case progression.BuildFailed:
		return "コンパイルできません："
	case progression.Panicked:
		return "テストが panic しました："
	case progression.TimedOut:
		return "テストが止まったまま時間切れになりました："
	case progression.Raced:
		return "race detector がデータ競合を見つけました："
	case progression.Leaked:
		return "テストは通りますが、goroutine が残っています（goleak）："
	case progression.NoTests:
		return "テストが 1 つも実行されませんでした"
	}
	return "テストを実行できませんでした："
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// pad pads s with spaces to width display columns, counting a wide (CJK) rune as two, so that Japanese titles line
// up in a terminal.
func pad(s string, width int) string {
	w := 0
	for _, r := range s {
		w++
		if r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
			(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
			(r >= 0xffe0 && r <= 0xffe6)) {
			w++
		}
	}
	return s + strings.Repeat(" ", max(width-w, 0))
}

// testFileLine is a test file's line as go test prints it, relative to its package: "jitter_test.go:74".
var testFileLine = regexp.MustCompile(`(^|\s)([A-Za-z0-9_]+_test\.go:\d+)`)

// linkTests makes each test file's line a path from the repository's root ("steps/01-jitter/jitter_test.go:74"),
// which terminals and editors open with a click.
func linkTests(s, dir string) string {
	return testFileLine.ReplaceAllString(s, "${1}"+dir+"/${2}")
}
