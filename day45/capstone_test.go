package day45_test

// The capstone: the four tests of the lesson's expected output. They pass once all six steps are done; run them with
// go test -v ./day45/ and compare with "期待される挙動" in README.md.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.VerifyNone(m) }

const finish = "finish every step first: see day45/README.md"

func capstoneProtector(t *testing.T, env *testutil.Env, mutate func(*testutil.Config)) *testutil.Protector {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	if mutate != nil {
		mutate(&cfg)
	}
	return env.Protector(t, cfg)
}

func TestThunderingHerdProtector_SingleFlight(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, nil)
	env.Repo.Hold()
	defer env.Repo.Release()
	const n = 1000
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error { _, err := p.Get(context.Background(), "product:1"); return err })
	}()
	// Hold the load until every caller waits for it: the worst case for a herd.
	joined := testutil.WaitUntil(func() bool { return testutil.Parked(testutil.WaitingCaller) == n }, 10*time.Second)
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d of %d requests failed, first: %v", r.Failed(), n, r.FirstErr())
	queries := env.Repo.Loads()
	require.Equal(t, int64(1), queries, "%d concurrent requests resulted in %d DB queries; want 1 — %s", n, queries, finish)
	t.Logf("%d concurrent requests resulted in %d DB query", n, queries)
	m := p.GetMetrics()
	require.True(t, joined, "metrics %+v: want %d misses sharing 1 DB query — %s", m, n, finish)
	require.Equal(t, int64(1), m.DBQueries, "metrics %+v: want %d misses sharing 1 DB query — %s", m, n, finish)
	require.Equal(t, int64(n), m.CacheMisses, "metrics %+v: want %d misses sharing 1 DB query — %s", m, n, finish)
	t.Log("Single flight pattern prevented thundering herd")
}

func TestThunderingHerdProtector_DistributedLock(t *testing.T) {
	env := testutil.NewEnv(t)
	const procs, perProc = 4, 50
	ps := make([]*testutil.Protector, procs)
	for i := range ps {
		ps[i] = capstoneProtector(t, env, nil) // its own Redis client: a separate process
	}
	env.Repo.Hold()
	defer env.Repo.Release()
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(procs*perProc, func(i int) error {
			_, err := ps[i%procs].Get(context.Background(), "product:1")
			return err
		})
	}()
	// Hold the one load until every other process waits on its lock.
	waiting := func() int64 {
		var waits int64
		for _, p := range ps {
			waits += p.GetMetrics().LockWaits
		}
		return waits
	}
	testutil.WaitUntil(func() bool { return env.Repo.Loads() == 1 && waiting() == procs-1 }, 2*time.Second)
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d requests failed, first: %v", r.Failed(), r.FirstErr())
	queries := env.Repo.Loads()
	require.Equal(t, int64(1), queries, "%d processes x %d requests made %d DB queries; want 1 — %s", procs, perProc, queries, finish)
	var locks, waits int64
	for _, p := range ps {
		m := p.GetMetrics()
		locks, waits = locks+m.LockAcquisitions, waits+m.LockWaits
	}
	require.GreaterOrEqual(t, locks, int64(1),
		"%d processes took the lock %d times and waited on it %d times; want them coordinated — %s", procs, locks, waits, finish)
	require.GreaterOrEqual(t, waits, int64(1),
		"%d processes took the lock %d times and waited on it %d times; want them coordinated — %s", procs, locks, waits, finish)
	t.Log("Multiple processes coordinated via distributed lock")
	t.Log("Only one process loaded data from DB")
}

func TestThunderingHerdProtector_CircuitBreaker(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, func(c *testutil.Config) { c.BreakerThreshold = 5 })
	env.Repo.Fail(errors.New("db: too many connections"))
	const n = 100
	for i := range n {
		_, _ = p.Get(context.Background(), fmt.Sprint("product:", i))
	}
	m := p.GetMetrics()
	require.Equal(t, int64(1), m.CircuitBreakerTrips,
		"CircuitBreakerTrips = %d after %d failing loads; want 1 — %s", m.CircuitBreakerTrips, n, finish)
	t.Log("Circuit breaker activated after threshold failures")
	got := env.Repo.Loads()
	require.Equal(t, int64(5), got, "%d requests against a failing DB made %d queries; want 5 — %s", n, got, finish)
	t.Log("DB protected from excessive load")
}

func TestThunderingHerdProtector_StaleWhileRevalidate(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, func(c *testutil.Config) { c.TTL, c.StaleTTL = time.Minute, time.Minute })
	require.NoError(t, p.Set(context.Background(), "product:1", &testutil.Data{Key: "product:1", Value: "old"}, time.Minute))
	env.Clock.Advance(61 * time.Second)
	env.Repo.Hold()
	defer env.Repo.Release()
	got := make(chan *testutil.Data, 1)
	go func() {
		d, _ := p.GetStaleWhileRevalidate(context.Background(), "product:1")
		got <- d
	}()
	var d *testutil.Data
	select {
	case d = <-got:
	case <-time.After(2 * time.Second):
		env.Repo.Release()
		<-got
		require.Fail(t, fmt.Sprintf("GetStaleWhileRevalidate waited for the DB; want the stale value at once — %s", finish))
	}
	require.NotNil(t, d, "GetStaleWhileRevalidate = %+v; want the stale value — %s", d, finish)
	require.Equal(t, "old", d.Value, "GetStaleWhileRevalidate = %+v; want the stale value — %s", d, finish)
	t.Log("Stale data returned immediately")
	env.Repo.Release()
	require.NoError(t, p.Close())
	m := p.GetMetrics()
	require.Equal(t, int64(1), m.BackgroundRefresh,
		"BackgroundRefresh = %d, DB loads completed = %d; want 1 and 1 — %s", m.BackgroundRefresh, env.Repo.Completed(), finish)
	require.Equal(t, int64(1), env.Repo.Completed(),
		"BackgroundRefresh = %d, DB loads completed = %d; want 1 and 1 — %s", m.BackgroundRefresh, env.Repo.Completed(), finish)
	t.Log("Background refresh completed")
}
