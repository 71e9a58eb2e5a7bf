package singleflight_test

// Step 02: singleflight. These tests exercise the flight group in day45/singleflight.go through Get
// (see README.md beside this file).

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.Zero(t, r.Failed(), "%d of %d Gets failed, first: %v — %s", r.Failed(), n, r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d concurrent Gets caused %d DB queries; want 1 — %s", n, got, readme)
	inFlight := env.Repo.MaxInFlight()
	assert.Equal(t, int64(1), inFlight, "the DB served %d queries for one key at the same time; want 1 — %s", inFlight, readme)
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
		assert.ErrorIs(t, err, context.DeadlineExceeded,
			"a waiter whose 50ms deadline passed got %v; want context.DeadlineExceeded — %s", err, readme)
	case <-time.After(bound):
		assert.Fail(t, "a waiter stayed blocked past its deadline",
			"a waiter with a 50ms deadline was still blocked after %v: it must wait on its own ctx, not only on the load (singleflight's Do cannot do that: use DoChan and select on ctx.Done()) — %s",
			bound, readme)
		defer func() { <-waiter }() // it returns once the load is released below
	}
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "the waiter started its own DB query (%d queries); want it to join the running load — %s", got, readme)
	env.Repo.Release()
	assert.NoError(t, <-leader, "the first Get failed — %s", readme)
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
		assert.ErrorIs(t, err, context.Canceled, "the cancelled first caller got %v; want context.Canceled — %s", err, readme)
	case <-time.After(bound):
		assert.Fail(t, "the cancelled first caller stayed blocked", "the cancelled first caller was still blocked after %v — %s", bound, readme)
		defer func() { <-leader }()
	}
	env.Repo.Release()
	r := <-res
	assert.Zero(t, r.Failed(), "the first caller's cancellation failed %d of %d other callers (first: %v); the shared load must run on a context detached from any one caller — %s",
		r.Failed(), n, r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d DB queries; want 1: when the first caller leaves, the shared load must go on (run it on context.WithoutCancel(ctx)) and later callers must join it, not start their own — %s", got, readme)
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
	require.Zero(t, r.Failed(), "%d Gets failed, first: %v — %s", r.Failed(), r.FirstErr(), readme)
	loads := env.Repo.Loads()
	require.Equal(t, int64(1), loads, "10 concurrent Gets caused %d DB queries; want 1 — %s", loads, readme)
	got[0].Value = "changed by one caller"
	for i, d := range got[1:] {
		require.Equal(t, "value:k", d.Value,
			"caller %d sees %q: callers share one *Data, so one caller's change leaks into the others — %s", i+1, d.Value, readme)
	}
}

// childEnv marks the copy of this test binary that TestGet_PanicInTheLoadIsAnError runs.
const childEnv = "DAY45_STEP02_PANIC_CHILD"

// TestGet_PanicInTheLoadIsAnError runs the herd in a copy of this test binary, because a panic on a goroutine that
// nobody recovers kills the whole process: that is what DoChan does with a panic of the function it runs.
func TestGet_PanicInTheLoadIsAnError(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		panickingHerd(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGet_PanicInTheLoadIsAnError$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	first := string(out)
	if i := strings.Index(first, "panic:"); i >= 0 {
		first, _, _ = strings.Cut(first[i:], "\n")
		assert.Fail(t, "a panic in the load killed the process",
			"%q: a panic inside the shared load crashed the whole process, and with it every request of the server. Recover inside the function you hand DoChan and return the panic as an error for every caller — %s",
			first, readme)
		return
	}
	assert.NoError(t, err, "the herd with a panicking load failed:\n%s— %s", out, readme)
}

// panickingHerd is the child's half: 10 callers share a load that panics (a bug in code the load runs: here the
// clock, once the database has answered), and each must get an error.
func panickingHerd(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.Now = func() time.Time {
		if env.Repo.Completed() > 0 {
			panic("bug in the load")
		}
		return env.Clock.Now()
	}
	p := env.Protector(t, cfg)
	env.Repo.Hold()
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(10, func(int) error { _, err := p.Get(context.Background(), "k"); return err })
	}()
	testutil.WaitUntil(func() bool { return testutil.Parked(testutil.WaitingCaller) == 10 }, bound)
	env.Repo.Release()
	r := <-res
	assert.Equal(t, 10, r.Failed(), "%d of 10 callers of a panicking load got an error; want all 10 — %s", r.Failed(), readme)
	assert.ErrorContains(t, r.FirstErr(), "panic", "the error should say the load panicked — %s", readme)
}
