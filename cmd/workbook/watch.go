package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"day45-thundering-herd/internal/progression"
)

func watchCmd(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error {
	var o progressOpts
	fs := newFlags("watch")
	o.define(fs)
	interval := fs.Duration("interval", 500*time.Millisecond, "how often to look for changes in day45/")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("watch は引数を取りません")
	}
	if *interval <= 0 {
		return usageError("watch：-interval は 0 より大きくしてください")
	}
	w := &watcher{root: root, interval: *interval, out: stdout, opts: o, run: progression.Run, clear: isTerminal(stdout)}
	if isTerminal(os.Stdin) {
		w.keys = readKeys(os.Stdin) // its goroutine ends with the process: a read of a terminal cannot be cancelled
	}
	return w.loop(ctx)
}

// watcher is the state of the watch loop: loop reruns the current step whenever a .go file in root/day45 changes,
// polling every interval, until ctx ends (then it returns nil).
type watcher struct {
	root     string
	interval time.Duration
	out      io.Writer
	opts     progressOpts
	run      runner
	clear    bool          // clear the terminal before each report
	keys     <-chan string // lines typed by the learner: h, n, r, q; nil when stdin is not a terminal

	snap snapshot
}

// readKeys sends each line read from r, trimmed, until r ends.
func readKeys(r io.Reader) <-chan string {
	keys := make(chan string)
	go func() {
		defer close(keys)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			keys <- strings.TrimSpace(sc.Text())
		}
	}()
	return keys
}

// key acts on one line typed during watch and reports whether to leave.
func (w *watcher) key(ctx context.Context, k string) (quit bool, err error) {
	cur := w.snap.current()
	switch k {
	case "q":
		return true, nil
	case "r":
		return false, w.runAll(ctx)
	case "h":
		if cur < progression.CoreSteps() {
			return false, hintCmd(w.root, []string{strconv.Itoa(cur + 1)}, w.out)
		}
		fmt.Fprintln(w.out, "watch：すべての Step が通っています。仕上げは day45/README.md を見てください。")
	case "n":
		if next := cur + 1; next < progression.CoreSteps() {
			st := progression.Steps()[next]
			fmt.Fprintf(w.out, "watch：次の Step は %s（%s、目安 %d 分）：steps/%s/README.md を読み、day45/%s を編集します。\n",
				st.Dir, st.JA, st.Minutes, st.Dir, st.File)
		} else {
			fmt.Fprintln(w.out, "watch：いまの Step がこの日の最後です。次は仕上げ（day45/README.md）、その先は任意の発展コースです。")
		}
	default:
		fmt.Fprintln(w.out, keysHelp)
	}
	return false, nil
}

const keysHelp = "watch：h＋Enter でヒント、n＋Enter で次の Step、r＋Enter で全部を再実行、q＋Enter で終了"

// fileStamp is what the loop compares to notice a change.
type fileStamp struct {
	mod  time.Time
	size int64
}

// scanDay45 stamps every .go file of root/day45.
func scanDay45(root string) map[string]fileStamp {
	files, _ := filepath.Glob(filepath.Join(root, "day45", "*.go"))
	m := make(map[string]fileStamp, len(files))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			m[filepath.Base(f)] = fileStamp{fi.ModTime(), fi.Size()}
		}
	}
	return m
}

// changed lists the files added, removed or modified between two scans.
func changed(before, after map[string]fileStamp) []string {
	var names []string
	for name, a := range after {
		if b, ok := before[name]; !ok || b != a {
			names = append(names, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func (w *watcher) loop(ctx context.Context) error {
	fmt.Fprintf(w.out, "watch：各 Step のテストを day45/ に対して実行しています…（Ctrl-C で終了）\n")
	stamps := scanDay45(w.root)
	if err := w.runAll(ctx); err != nil {
		return w.stopped(ctx, err)
	}
	w.report()
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	keys := w.keys
	for {
		select {
		case <-ctx.Done():
			return w.stopped(ctx, ctx.Err())
		case k, ok := <-keys:
			if !ok {
				keys, w.keys = nil, nil // stdin closed (or /dev/null): watch on without keys
				continue
			}
			quit, err := w.key(ctx, k)
			if quit {
				fmt.Fprintln(w.out, "\nwatch：終了します。")
				return nil
			}
			if err != nil {
				fmt.Fprintf(w.out, "watch：%v\n", err)
			} else if k == "r" {
				w.report()
			}
			continue
		case <-tick.C:
		}
		now := scanDay45(w.root)
		diff := changed(stamps, now)
		if len(diff) == 0 {
			continue
		}
		stamps = now // a change made while the tests run triggers the next round
		fmt.Fprintf(w.out, "\nwatch：%s が %s に変わりました。もう一度実行します…\n", joinNames(diff), time.Now().Format("15:04:05"))
		if err := w.rerun(ctx); err != nil {
			if ctx.Err() != nil {
				return w.stopped(ctx, err)
			}
			fmt.Fprintf(w.out, "watch：go test を実行できませんでした：%v\n（次の変更を待っています）\n", err)
			continue
		}
		w.report()
	}
}

// stopped ends the loop: cleanly when ctx was cancelled (Ctrl-C), with err otherwise.
func (w *watcher) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())) {
		fmt.Fprintln(w.out, "\nwatch：終了します。")
		return nil
	}
	return err
}

func (w *watcher) runAll(ctx context.Context) error {
	snap, err := loadSnapshot(ctx, w.root, w.opts, w.run)
	if err != nil {
		return err
	}
	w.snap = snap
	return nil
}

// rerun runs the current step's tests only; when they now pass (or every step already passed) it runs everything,
// to find the new current step and refresh the whole table.
func (w *watcher) rerun(ctx context.Context) error {
	cur := w.snap.current()
	if cur == len(w.snap.Steps) {
		return w.runAll(ctx)
	}
	res, err := w.run(ctx, w.root, []string{progression.Steps()[cur].Package()}, w.opts.options())
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("go test reported %d packages, want 1", len(res))
	}
	w.snap.Steps[cur] = res[0]
	if res[0].Outcome == progression.Passed {
		return w.runAll(ctx)
	}
	return nil
}

func (w *watcher) report() {
	if w.clear {
		fmt.Fprint(w.out, "\033[H\033[2J")
	}
	printProgress(w.out, w.snap, w.opts.ASCII)
	fmt.Fprintf(w.out, "\nwatch：day45/ の変更を待っています（Ctrl-C で終了）\n")
	if w.keys != nil {
		fmt.Fprintln(w.out, keysHelp)
	}
}

func joinNames(names []string) string {
	if len(names) > 3 {
		return fmt.Sprintf("day45/%s, day45/%s and %d more", names[0], names[1], len(names)-2)
	}
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += "day45/" + n
	}
	return s
}

// isTerminal reports whether w is a character device (a terminal), where clearing the screen makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
