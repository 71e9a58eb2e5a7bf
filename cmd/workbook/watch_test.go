package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// syncBuffer is a writer that the test reads while the loop writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeRunner answers go test from a table: step N passes once passing >= N. It records each call's packages.
type fakeRunner struct {
	mu      sync.Mutex
	passing int
	calls   [][]string
	called  chan struct{}
}

func (f *fakeRunner) run(ctx context.Context, root string, pkgs []string, o progression.Options) ([]progression.PackageResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, pkgs)
	var res []progression.PackageResult
	for _, p := range pkgs {
		r := progression.PackageResult{Package: p, Outcome: progression.Failed, Tests: 2, FailedTests: []string{"TestX"}, FirstFailure: "x_test.go:1: failing in " + p}
		for _, s := range progression.Steps() {
			if s.Package() == p && s.N <= f.passing {
				r = progression.PackageResult{Package: p, Outcome: progression.Passed, Tests: 2, PassedTests: 2}
			}
		}
		res = append(res, r)
	}
	select {
	case f.called <- struct{}{}:
	default:
	}
	return res, nil
}

func (f *fakeRunner) set(passing int) {
	f.mu.Lock()
	f.passing = passing
	f.mu.Unlock()
}

func (f *fakeRunner) history() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// eventually waits, in real time, for cond; the loop under test polls every few milliseconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWatch(t *testing.T) {
	root := t.TempDir()
	jitter := filepath.Join(root, "day45", "jitter.go")
	writeFile(t, jitter, "package day45\n")
	writeFile(t, filepath.Join(root, "day45", "lock.go"), "package day45\n")
	f := &fakeRunner{called: make(chan struct{}, 1)}
	out := &syncBuffer{}
	w := &watcher{root: root, interval: 5 * time.Millisecond, out: out, opts: progressOpts{ASCII: true}, run: f.run}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.loop(ctx) }()
	eventually(t, "the first report", func() bool { return strings.Contains(out.String(), "の変更を待っています") })
	h := f.history()
	require.Len(t, h, 1, "first round ran %q; want every step and the capstone", h)
	require.Len(t, h[0], len(progression.Steps())+1, "first round ran %q; want every step and the capstone", h)
	assert.Contains(t, out.String(), "0/6 Step 完了", "first report")
	assert.Contains(t, out.String(), "failing in ./steps/01-jitter", "first report")

	// A change that does not fix the step: only the current step runs again.
	touch(t, jitter, time.Now().Add(time.Second))
	eventually(t, "the rerun of the current step", func() bool { return len(f.history()) == 2 })
	eventually(t, "the second report", func() bool { return strings.Count(out.String(), "の変更を待っています") == 2 })
	assert.Equal(t, []string{"./steps/01-jitter"}, f.history()[1], "after a change, want only the current step to run")
	assert.Contains(t, out.String(), "day45/jitter.go が", "the change is not reported")

	// The change that fixes it: the step passes, so everything runs again and step 02 becomes current.
	f.set(1)
	touch(t, jitter, time.Now().Add(2*time.Second))
	eventually(t, "the full rerun", func() bool { return len(f.history()) == 4 })
	eventually(t, "the third report", func() bool { return strings.Count(out.String(), "の変更を待っています") == 3 })
	h = f.history()
	assert.Len(t, h[2], 1, "after the fix, ran %q; want the current step, then everything", h[2:])
	assert.Len(t, h[3], len(progression.Steps())+1, "after the fix, ran %q; want the current step, then everything", h[2:])
	report := out.String()
	require.Contains(t, report, "Day 45 ワークブック", "no report")
	last := report[strings.LastIndex(report, "Day 45 ワークブック"):]
	assert.Contains(t, last, "1/6 Step 完了", "last report")
	assert.Contains(t, last, "02-singleflight  singleflight             0/2    [>] いまここ", "last report")

	// A new file counts as a change too.
	writeFile(t, filepath.Join(root, "day45", "helpers.go"), "package day45\n")
	eventually(t, "the rerun after a new file", func() bool { return len(f.history()) == 5 })

	cancel() // Ctrl-C
	select {
	case err := <-done:
		assert.NoError(t, err, "watch returned an error after Ctrl-C; want nil")
	case <-time.After(10 * time.Second):
		require.FailNow(t, "watch did not return after its context was cancelled")
	}
	assert.True(t, strings.HasSuffix(out.String(), "watch：終了します。\n"), "output does not end with the goodbye:\n%s", out.String())
}

func touch(t *testing.T, path string, at time.Time) {
	t.Helper()
	require.NoError(t, os.Chtimes(path, at, at))
}

func TestChanged(t *testing.T) {
	t0 := time.Unix(1, 0)
	before := map[string]fileStamp{"a.go": {t0, 1}, "b.go": {t0, 1}, "c.go": {t0, 1}}
	after := map[string]fileStamp{"a.go": {t0, 1}, "b.go": {t0, 2}, "d.go": {t0, 1}}
	assert.Equal(t, "b.go c.go d.go", strings.Join(changed(before, after), " "), "changed")
	assert.Empty(t, changed(before, before), "no change reported")
}

// TestWatch_Keys: r reruns everything, h shows the current step's next hint, n names the next step, q leaves.
func TestWatch_Keys(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "day45", "jitter.go"), "package day45\n")
	writeFile(t, filepath.Join(root, "steps", "01-jitter", "README.md"), "# x\n\n## ヒント\n\n### ヒント 1 — a nudge\n\nLook at the window.\n")
	f := &fakeRunner{called: make(chan struct{}, 1)}
	out := &syncBuffer{}
	keys := make(chan string)
	w := &watcher{root: root, interval: time.Hour, out: out, opts: progressOpts{ASCII: true}, run: f.run, keys: keys}
	done := make(chan error, 1)
	go func() { done <- w.loop(context.Background()) }()
	eventually(t, "the first report", func() bool { return strings.Contains(out.String(), "h＋Enter でヒント") })

	keys <- "r"
	eventually(t, "the rerun", func() bool { return len(f.history()) == 2 })
	assert.Len(t, f.history()[1], len(progression.Steps())+1, "r reruns every step and the capstone")
	keys <- "h"
	eventually(t, "the hint", func() bool { return strings.Contains(out.String(), "Look at the window.") })
	keys <- "n"
	eventually(t, "the next step", func() bool { return strings.Contains(out.String(), "次の Step は 02-singleflight") })
	keys <- "?"
	keys <- "q"
	require.NoError(t, <-done, "q must leave watch cleanly")
	assert.True(t, strings.HasSuffix(out.String(), "watch：終了します。\n"), "output does not end with the goodbye:\n%s", out.String())
}
