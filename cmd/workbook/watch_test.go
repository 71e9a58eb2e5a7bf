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
			t.Fatalf("timed out waiting for %s", what)
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
	eventually(t, "the first report", func() bool { return strings.Contains(out.String(), "waiting for changes") })
	if h := f.history(); len(h) != 1 || len(h[0]) != 7 {
		t.Fatalf("first round ran %q; want every step and the capstone", h)
	}
	if !strings.Contains(out.String(), "0/6 steps done") || !strings.Contains(out.String(), "failing in ./steps/01-jitter") {
		t.Errorf("first report:\n%s", out.String())
	}

	// A change that does not fix the step: only the current step runs again.
	touch(t, jitter, time.Now().Add(time.Second))
	eventually(t, "the rerun of the current step", func() bool { return len(f.history()) == 2 })
	eventually(t, "the second report", func() bool { return strings.Count(out.String(), "waiting for changes") == 2 })
	if h := f.history(); len(h[1]) != 1 || h[1][0] != "./steps/01-jitter" {
		t.Errorf("after a change, ran %q; want only the current step", h[1])
	}
	if !strings.Contains(out.String(), "day45/jitter.go changed") {
		t.Errorf("the change is not reported:\n%s", out.String())
	}

	// The change that fixes it: the step passes, so everything runs again and step 02 becomes current.
	f.set(1)
	touch(t, jitter, time.Now().Add(2*time.Second))
	eventually(t, "the full rerun", func() bool { return len(f.history()) == 4 })
	eventually(t, "the third report", func() bool { return strings.Count(out.String(), "waiting for changes") == 3 })
	if h := f.history(); len(h[2]) != 1 || len(h[3]) != 7 {
		t.Errorf("after the fix, ran %q; want the current step, then everything", h[2:])
	}
	last := out.String()[strings.LastIndex(out.String(), "Day 45 workbook"):]
	if !strings.Contains(last, "1/6 steps done") || !strings.Contains(last, "02-singleflight  singleflight             0/2    [>] current") {
		t.Errorf("last report:\n%s", last)
	}

	// A new file counts as a change too.
	writeFile(t, filepath.Join(root, "day45", "helpers.go"), "package day45\n")
	eventually(t, "the rerun after a new file", func() bool { return len(f.history()) == 5 })

	cancel() // Ctrl-C
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch returned %v after Ctrl-C; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return after its context was cancelled")
	}
	if !strings.HasSuffix(out.String(), "watch: bye.\n") {
		t.Errorf("output does not end with the goodbye:\n%s", out.String())
	}
}

func touch(t *testing.T, path string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestChanged(t *testing.T) {
	t0 := time.Unix(1, 0)
	before := map[string]fileStamp{"a.go": {t0, 1}, "b.go": {t0, 1}, "c.go": {t0, 1}}
	after := map[string]fileStamp{"a.go": {t0, 1}, "b.go": {t0, 2}, "d.go": {t0, 1}}
	if got := strings.Join(changed(before, after), " "); got != "b.go c.go d.go" {
		t.Errorf("changed = %q, want b.go c.go d.go", got)
	}
	if got := changed(before, before); len(got) != 0 {
		t.Errorf("no change reported %q", got)
	}
}
