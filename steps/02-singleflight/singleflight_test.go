package singleflight_test

// Step 02: singleflight. These tests exercise the flight group in day45/singleflight.go through Get
// (see README.md beside this file).

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"day45-thundering-herd/testutil"
)

const readme = "see steps/02-singleflight/README.md"

// bound caps every wait in these tests: they fail with a message instead of hanging.
const bound = 2 * time.Second

func newProtector(t *testing.T, env *testutil.Env) *testutil.Protector {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	return env.Protector(t, cfg)
}

func TestGet_OneLoadForAThousandCallers(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.SetLatency(50 * time.Millisecond) // long enough for the whole herd to miss
	const n = 1000
	r := testutil.Herd(n, func(int) error {
		d, err := p.Get(context.Background(), "product:1")
		if err == nil && d.Value != "value:product:1" {
			return errors.New("wrong value " + d.Value)
		}
		return err
	})
	if r.Failed() != 0 {
		t.Fatalf("%d of %d Gets failed, first: %v — %s", r.Failed(), n, r.FirstErr(), readme)
	}
	if got := env.Repo.Loads(); got != 1 {
		t.Errorf("%d concurrent Gets caused %d DB queries; want 1 — %s", n, got, readme)
	}
	if got := env.Repo.MaxInFlight(); got != 1 {
		t.Errorf("the DB served %d queries for one key at the same time; want 1 — %s", got, readme)
	}
}

func TestGet_WaiterLeavesAtItsOwnDeadline(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	defer env.Repo.Release()
	leader := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); leader <- err }()
	env.Repo.WaitLoads(t, 1, "the first Get never reached the DB — "+readme)

	waiter := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := p.Get(ctx, "k")
		waiter <- err
	}()
	select {
	case err := <-waiter:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a waiter whose 50ms deadline passed got %v; want context.DeadlineExceeded — %s", err, readme)
		}
	case <-time.After(bound):
		t.Errorf("a waiter with a 50ms deadline was still blocked after %v: it must wait on its own ctx, not only on the load — %s",
			bound, readme)
		defer func() { <-waiter }() // it returns once the load is released below
	}
	if got := env.Repo.Loads(); got != 1 {
		t.Errorf("the waiter started its own DB query (%d queries); want it to join the running load — %s", got, readme)
	}
	env.Repo.Release()
	if err := <-leader; err != nil {
		t.Errorf("the first Get failed: %v — %s", err, readme)
	}
}

func TestGet_CancelledLeaderDoesNotFailTheOthers(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	defer env.Repo.Release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leader := make(chan error, 1)
	go func() { _, err := p.Get(ctx, "k"); leader <- err }()
	env.Repo.WaitLoads(t, 1, "the first Get never reached the DB — "+readme)

	const n = 20
	var asked atomic.Int64
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error {
			asked.Add(1)
			_, err := p.Get(context.Background(), "k")
			return err
		})
	}()
	testutil.Eventually(t, func() bool { return asked.Load() == n }, bound, "the waiters never started")
	cancel() // the first caller gives up: a user closed the page
	select {
	case err := <-leader:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the cancelled first caller got %v; want context.Canceled — %s", err, readme)
		}
	case <-time.After(bound):
		t.Errorf("the cancelled first caller was still blocked after %v — %s", bound, readme)
		defer func() { <-leader }()
	}
	env.Repo.Release()
	r := <-res
	if r.Failed() != 0 {
		t.Errorf("the first caller's cancellation failed %d of %d other callers (first: %v); the shared load must run on a context detached from any one caller — %s",
			r.Failed(), n, r.FirstErr(), readme)
	}
	if got := env.Repo.Loads(); got != 1 {
		t.Errorf("%d DB queries; want 1: when the first caller leaves, the shared load must go on (run it on context.WithoutCancel(ctx)) and later callers must join it, not start their own — %s", got, readme)
	}
}

func TestGet_EachCallerGetsItsOwnCopy(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.SetLatency(50 * time.Millisecond)
	got := make([]*testutil.Data, 10)
	r := testutil.Herd(len(got), func(i int) error {
		d, err := p.Get(context.Background(), "k")
		got[i] = d
		return err
	})
	if r.Failed() != 0 {
		t.Fatalf("%d Gets failed, first: %v — %s", r.Failed(), r.FirstErr(), readme)
	}
	if loads := env.Repo.Loads(); loads != 1 {
		t.Fatalf("10 concurrent Gets caused %d DB queries; want 1 — %s", loads, readme)
	}
	got[0].Value = "changed by one caller"
	for i, d := range got[1:] {
		if d.Value != "value:k" {
			t.Fatalf("caller %d sees %q: callers share one *Data, so one caller's change leaks into the others — %s", i+1, d.Value, readme)
		}
	}
}
