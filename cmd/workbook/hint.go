package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"day45-thundering-herd/internal/progression"
)

// hint is one "### ヒント k" subsection of a step's README.
type hint struct {
	Title string // the heading without its hashes, e.g. "ヒント 1 — 乱数を窓の形にする"
	Body  string // the text up to the next ### or ## heading, trimmed
}

// hintSection is the level-2 heading that holds a README's hints.
const hintSection = "ヒント"

// parseHints returns the hints of a step README: the ### subsections of its "## ヒント" section, in order. Headings
// inside fenced code blocks do not count.
func parseHints(readme string) []hint {
	var (
		hints     []hint
		inSection bool
		cur       *hint
		body      []string
		fence     string // the fence that opened the current code block, "" outside one
	)
	flush := func() {
		if cur != nil {
			cur.Body = strings.TrimSpace(strings.Join(body, "\n"))
			hints = append(hints, *cur)
		}
		cur, body = nil, nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(readme, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			if cur != nil {
				body = append(body, line)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			if cur != nil {
				body = append(body, line)
			}
			continue
		}
		level, title := heading(line)
		switch {
		case level == 1 || level == 2:
			flush()
			inSection = level == 2 && (title == hintSection || strings.HasPrefix(title, hintSection+" ") ||
				strings.HasPrefix(title, hintSection+"（") || strings.HasPrefix(title, hintSection+"("))
		case level == 3 && inSection:
			flush()
			cur = &hint{Title: title}
		case cur != nil:
			body = append(body, line)
		}
	}
	flush()
	return hints
}

// heading returns the level and text of a Markdown ATX heading line, or 0.
func heading(line string) (int, string) {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(line) && line[n] != ' ' && line[n] != '\t') {
		return 0, ""
	}
	return n, strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[n:]), "#"))
}

// hintState is what .workbook/hints.json remembers: how many hints of each step (by its directory) were shown.
type hintState struct {
	Shown map[string]int `json:"shown"`
}

func hintStatePath(root string) string { return filepath.Join(root, ".workbook", "hints.json") }

// loadHintState reads the state file; a missing or unreadable one is an empty state.
func loadHintState(root string) hintState {
	st := hintState{Shown: map[string]int{}}
	b, err := os.ReadFile(hintStatePath(root))
	if err != nil {
		return st
	}
	if json.Unmarshal(b, &st) != nil || st.Shown == nil {
		return hintState{Shown: map[string]int{}}
	}
	return st
}

// save writes the state file atomically (a temp file renamed over it).
func (st hintState) save(root string) error {
	path := hintStatePath(root)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "hints-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// findStep resolves a step argument: "1", "01", "01-jitter", "jitter", or a path to the step's directory, with
// slashes or, as a Windows shell completes it, backslashes ("./steps/01-jitter/", ".\\steps\\01-jitter\\").
func findStep(arg string) (progression.Step, bool) {
	arg = strings.ReplaceAll(strings.TrimSpace(arg), `\`, "/")
	arg = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(arg, "./"), "steps/"), "/")
	for _, s := range progression.Steps() {
		if n, err := strconv.Atoi(arg); err == nil && n == s.N {
			return s, true
		}
		if arg == s.Dir || arg == s.Dir[3:] {
			return s, true
		}
	}
	return progression.Step{}, false
}

// hintCmd: hint (status of every step), hint N (the next hint of step N), hint N reset.
func hintCmd(root string, args []string, w io.Writer) error {
	fs := newFlags("hint")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return hintStatus(root, w)
	case len(pos) > 2 || (len(pos) == 2 && pos[1] != "reset"):
		return usageError("hint には Step の番号と、必要なら reset を付けます：hint 1、hint 1 reset")
	}
	step, ok := findStep(pos[0])
	if !ok {
		return usageError("hint：Step %q はありません。Step は 1..%d です", pos[0], len(progression.Steps()))
	}
	st := loadHintState(root)
	if len(pos) == 2 {
		delete(st.Shown, step.Dir)
		if err := st.save(root); err != nil {
			return err
		}
		fmt.Fprintf(w, "Step %s のヒントを最初に戻しました。次の `hint %d` はヒント 1 を表示します。\n", step.Dir, step.N)
		return nil
	}
	return showNextHint(root, step, st, w)
}

// stepHints reads and parses the hints of a step's README.
func stepHints(root string, step progression.Step) ([]hint, string, error) {
	rel := filepath.ToSlash(filepath.Join("steps", step.Dir, "README.md"))
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, rel, fmt.Errorf("%s がありません", rel)
		}
		return nil, rel, err
	}
	hints := parseHints(string(b))
	if len(hints) == 0 {
		return nil, rel, fmt.Errorf("%s にヒントがありません（\"## %s\" の節と \"### %s 1\" …）", rel, hintSection, hintSection)
	}
	return hints, rel, nil
}

// showNextHint prints the next hint of step and remembers that it was shown. After the last one it says so and
// shows the last one again.
func showNextHint(root string, step progression.Step, st hintState, w io.Writer) error {
	hints, rel, err := stepHints(root, step)
	if err != nil {
		return err
	}
	shown := st.Shown[step.Dir]
	k := min(shown+1, len(hints))
	if shown >= len(hints) {
		fmt.Fprintf(w, "Step %[2]s のヒント %[1]d 個はすべて表示済みです。最後のヒントをもう一度表示します（`hint %[3]d reset` で最初から）。\n\n",
			len(hints), step.Dir, step.N)
	}
	h := hints[k-1]
	fmt.Fprintf(w, "Step %s — %s（ヒント %d/%d、%s より）\n\n%s\n", step.Dir, h.Title, k, len(hints), rel, h.Body)
	switch {
	case k < len(hints):
		fmt.Fprintf(w, "\nまだ行き詰まっていたら：`go run ./cmd/workbook hint %d` でヒント %d/%d を表示します。\n", step.N, k+1, len(hints))
	case shown < len(hints):
		fmt.Fprintf(w, "\nこの Step のヒントはこれで最後です。\n")
	}
	if k > shown {
		st.Shown[step.Dir] = k
		if err := st.save(root); err != nil {
			return fmt.Errorf("表示したヒントを記録できません：%w", err)
		}
	}
	return nil
}

// hintStatus prints how many hints of each step have been shown.
func hintStatus(root string, w io.Writer) error {
	st := loadHintState(root)
	fmt.Fprintln(w, "これまでに表示したヒント（go run ./cmd/workbook hint N で Step N の次のヒント）：")
	for _, s := range progression.Steps() {
		total := "?"
		if hints, _, err := stepHints(root, s); err == nil {
			total = strconv.Itoa(len(hints))
		}
		fmt.Fprintf(w, "  %2d  %-16s %d/%s\n", s.N, s.Dir, st.Shown[s.Dir], total)
	}
	return nil
}
