package progression

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// MistakesDir is where a step keeps its catalogue of wrong solutions, relative to the step's directory. Each file,
// <short-name>.go.txt, is a complete replacement of the step's day45 file with one mistake a learner makes; the
// .txt suffix keeps the go tool from compiling it in place.
const MistakesDir = "testdata/mistakes"

// Mistake is one wrong solution of a step's catalogue, with what its header says the step's tests must report.
type Mistake struct {
	Step    Step
	Name    string  // the file name without .go.txt
	Path    string  // the catalogue file
	What    string  // "// mistake: ..."": the mistake, in one line
	Want    string  // "// want: ...": a substring of the failure the step's tests print for it
	Outcome Outcome // how the step's tests must end: Failed (by assertion), or Raced for "// outcome: race"
}

// MistakeResult is how one mistake fared.
type MistakeResult struct {
	Mistake
	Result    PackageResult
	Took      time.Duration
	Violation string // empty when the step's tests caught the mistake as its header says
}

// ParseMistakeHeader reads the header of a catalogue file: the comment lines before the first line that is not a
// comment. "// mistake:" and "// want:" are required, "// outcome:" is optional ("fail", the default, or "race").
func ParseMistakeHeader(src []byte) (what, want string, outcome Outcome, err error) {
	outcome = Failed
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(rest), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "mistake":
			what = val
		case "want":
			want = val
		case "outcome":
			switch Outcome(val) {
			case Failed, Raced:
				outcome = Outcome(val)
			default:
				return "", "", "", fmt.Errorf("outcome %q: want %q or %q", val, Failed, Raced)
			}
		}
	}
	switch {
	case what == "":
		return "", "", "", fmt.Errorf(`no "// mistake: ..." line in the header`)
	case want == "":
		return "", "", "", fmt.Errorf(`no "// want: ..." line in the header`)
	}
	return what, want, outcome, nil
}

// LoadMistakes reads every step's catalogue under root, in course order and by name within a step.
func LoadMistakes(root string) ([]Mistake, error) {
	var all []Mistake
	for _, s := range Steps() {
		dir := filepath.Join(root, "steps", s.Dir, MistakesDir)
		files, err := filepath.Glob(filepath.Join(dir, "*.go.txt"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			what, want, outcome, err := ParseMistakeHeader(src)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".go.txt")
			all = append(all, Mistake{Step: s, Name: name, Path: f, What: what, Want: want, Outcome: outcome})
		}
	}
	return all, nil
}

// mistakeParallelism is how many catalogue files are tested at once: one go test per core, so that the timing of
// the tests stays close to a learner's run.
func mistakeParallelism() int { return max(1, runtime.NumCPU()) }

// VerifyMistakes runs every mistake of every catalogue: the step's tests in learner mode (under -race for a race), with the
// files of the earlier steps taken from the reference and the step's own file replaced by the mistake. Each must
// fail the way its header says (by assertion, or by the race detector) and print its want text; a violation names
// each one that does not. The mistakes run mistakeParallelism at a time, across steps (a barrier per step left a
// core idle at the end of each); report receives the results in catalogue order, each as soon as it and all before
// it have finished, from one goroutine at a time.
func VerifyMistakes(ctx context.Context, root string, report func(MistakeResult)) ([]string, error) {
	all, err := LoadMistakes(root)
	if err != nil {
		return nil, err
	}
	var (
		mu         sync.Mutex // guards everything below
		violations []string
		firstErr   error
		results    = make([]*MistakeResult, len(all))
		next       int // the first result not yet reported
	)
	sem := make(chan struct{}, mistakeParallelism())
	var wg sync.WaitGroup
	for i, m := range all {
		wg.Go(func() {
			sem <- struct{}{}
			r, err := RunMistake(ctx, root, m)
			<-sem
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmp.Or(firstErr, fmt.Errorf("%s/%s: %w", m.Step.Dir, m.Name, err)) // stops the reports
			}
			results[i] = &r
			for ; next < len(results) && results[next] != nil && firstErr == nil; next++ {
				if v := results[next].Violation; v != "" {
					violations = append(violations, v)
				}
				if report != nil {
					report(*results[next])
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return violations, firstErr
	}
	slices.Sort(violations)
	return violations, nil
}

// RunMistake runs the tests of m's step on m, as VerifyMistakes does, and judges the outcome.
func RunMistake(ctx context.Context, root string, m Mistake) (MistakeResult, error) {
	ov := Overlay(root, m.Step.N-1)
	ov[filepath.Join(root, "day45", m.Step.File)] = m.Path
	start := time.Now()
	// The race detector only where the mistake is a race: it doubles what each of the 45 runs compiles. No vet: the
	// question is whether the step's tests catch the mistake, and vet costs each run a tenth more.
	res, err := Run(ctx, root, []string{m.Step.Package()}, Options{Overlay: ov, Race: m.Outcome == Raced, NoVet: true})
	r := MistakeResult{Mistake: m, Took: time.Since(start)}
	if err != nil {
		return r, err
	}
	r.Result = res[0]
	r.Violation = judgeMistake(m, r.Result)
	return r, nil
}

// judgeMistake returns why the result of m is not the failure its header asks for, or "".
func judgeMistake(m Mistake, r PackageResult) string {
	id := fmt.Sprintf("mistake %s/%s (%s)", m.Step.Dir, m.Name, m.What)
	switch {
	case r.Outcome == Passed:
		return fmt.Sprintf("%s: the step's tests pass on it; add a test that fails on it", id)
	case r.Outcome != m.Outcome:
		return fmt.Sprintf("%s: should fail by %s but ended %s: %s", id, outcomeName(m.Outcome), r.Outcome, oneLine(r.FirstFailure))
	case !strings.Contains(r.Output, m.Want):
		return fmt.Sprintf("%s: failed (%s), but the output lacks its want text %q; first failure: %s", id, strings.Join(r.FailedTests, ", "), m.Want, oneLine(r.FirstFailure))
	}
	return ""
}

func outcomeName(o Outcome) string {
	if o == Raced {
		return "the race detector"
	}
	return "assertion"
}

// CaughtBy names the tests that failed on the mistake, for the maintainer's report.
func (r MistakeResult) CaughtBy() string {
	if len(r.Result.FailedTests) == 0 {
		return string(r.Result.Outcome)
	}
	return strings.Join(r.Result.FailedTests, ", ")
}
