//go:build solution

package day45_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

// sheddingConfig is the Env's Config without jitter, with the caps given.
func sheddingConfig(env *testutil.Env, maxLoads, maxWaiters int) testutil.Config {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	cfg.MaxConcurrentLoads = maxLoads
	cfg.MaxWaitersPerKey = maxWaiters
	return cfg
}

// getInto is one caller of a herd whose frame WaitsForTheDB looks for.
func getInto(p *testutil.Protector, key string, errs chan<- error) {
	_, err := p.Get(context.Background(), key)
	errs <- err
}

func TestShedding_ZeroMeansNoCap(t *testing.T) {
	env := testutil.NewRealEnv(t)
	const keys, callers = 100, 30
	p := env.Protector(t, sheddingConfig(env, 0, 0))
	env.Repo.Hold()
	errs := make(chan error, keys+callers)
	for i := range keys {
		go getInto(p, fmt.Sprintf("cold:%03d", i), errs)
	}
	for range callers {
		go getInto(p, "hot", errs)
	}
	testutil.Eventually(t, func() bool {
		return env.Repo.InFlight() == keys+1 && testutil.Parked("[select", "day45_test.getInto(", "(*flightGroup).do(") == keys+callers
	}, 5*time.Second, "one load per key in the database at once, every caller waiting for it")
	env.Repo.Release()
	for range keys + callers {
		require.NoError(t, <-errs)
	}
	assert.Zero(t, p.GetMetrics().Shed)
}

func TestShedding_OverloadIsNotADatabaseFailure(t *testing.T) {
	env := testutil.NewRealEnv(t)
	cfg := sheddingConfig(env, 1, 0)
	cfg.BreakerThreshold = 2
	p := env.Protector(t, cfg)
	env.Repo.Hold()
	errs := make(chan error, 1)
	go getInto(p, "busy", errs)
	env.Repo.WaitInFlight(t, 1, "the load of key busy")
	for i := range 10 * cfg.BreakerThreshold {
		_, err := p.Get(t.Context(), fmt.Sprintf("shed:%d", i))
		require.ErrorIs(t, err, testutil.ErrOverloaded, "a load beyond MaxConcurrentLoads")
		assert.NotErrorIs(t, err, testutil.ErrCircuitOpen)
	}
	env.Repo.Release()
	require.NoError(t, <-errs)
	_, err := p.Get(t.Context(), "after")
	require.NoError(t, err, "refused loads never open the breaker")
	m := p.GetMetrics()
	assert.Zero(t, m.CircuitBreakerTrips)
	assert.Zero(t, m.DBErrors, "a refused load is not a database error")
	assert.Equal(t, int64(2), m.DBQueries, "refused loads never reach the database")
	assert.Equal(t, int64(10*cfg.BreakerThreshold), m.Shed)
	assert.LessOrEqual(t, m.Shed, m.CacheMisses)
}

func TestShedding_BackgroundRefreshesCountAgainstTheBulkhead(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := sheddingConfig(env, 1, 0)
	p := env.Protector(t, cfg)
	_, err := p.Get(t.Context(), "stale")
	require.NoError(t, err)
	env.WaitWriteBack(t, "stale", "lock:stale")
	env.Clock.Advance(cfg.TTL + time.Second)
	env.Repo.Hold()
	errs := make(chan error, 1)
	go getInto(p, "busy", errs)
	env.Repo.WaitInFlight(t, 1, "the load of key busy")
	d, err := p.GetStaleWhileRevalidate(t.Context(), "stale")
	require.NoError(t, err)
	assert.Equal(t, "value:stale", d.Value, "the stale value, at once")
	testutil.Eventually(t, func() bool { return p.GetMetrics().BackgroundRefresh == 1 }, 5*time.Second, "the refresh started")
	env.Repo.Release()
	require.NoError(t, <-errs)
	assert.Equal(t, int64(1), env.Repo.LoadsOf("stale"), "the refresh was refused: the only slot was taken")
}

func TestShedding_ErrOverloadedNamesTheCap(t *testing.T) {
	env := testutil.NewRealEnv(t)
	p := env.Protector(t, sheddingConfig(env, 1, 1))
	env.Repo.Hold()
	errs := make(chan error, 1)
	go getInto(p, "busy", errs)
	env.Repo.WaitInFlight(t, 1, "the load of key busy")
	_, err := p.Get(t.Context(), "busy")
	require.ErrorIs(t, err, testutil.ErrOverloaded)
	assert.Contains(t, err.Error(), "MaxWaitersPerKey")
	_, err = p.Get(t.Context(), "other")
	require.ErrorIs(t, err, testutil.ErrOverloaded)
	assert.Contains(t, err.Error(), "MaxConcurrentLoads")
	env.Repo.Release()
	require.NoError(t, <-errs)
}

// TestShedding_EarlyRefreshIsRefusedWhenTheBulkheadIsFull: an XFetch refresh (step 07) takes a slot like any load;
// refused, it releases the key's lock and queries nothing, and the value keeps being served.
func TestShedding_EarlyRefreshIsRefusedWhenTheBulkheadIsFull(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := sheddingConfig(env, 1, 0)
	cfg.TTL, cfg.XFetchBeta, cfg.Rand = 10*time.Second, 1, func() float64 { return 0.999999 } // every draw refreshes
	p := env.Protector(t, cfg)
	env.Repo.TakeClockTime(env.Clock, time.Second) // the value took 1s to load: XFetch refreshes it early
	_, err := p.Get(t.Context(), "hot")
	require.NoError(t, err)
	env.WaitWriteBack(t, "hot", "lock:hot")
	env.Repo.TakeClockTime(nil, 0)
	env.Clock.Advance(9 * time.Second) // 1s before expiry: the draw says refresh

	env.Repo.Hold()
	errs := make(chan error, 1)
	go getInto(p, "busy", errs) // takes the only slot
	env.Repo.WaitInFlight(t, 1, "the load of key busy")
	d, err := p.Get(t.Context(), "hot")
	require.NoError(t, err)
	assert.Equal(t, "value:hot", d.Value, "the fresh value, while its refresh is refused")
	testutil.Eventually(t, func() bool { return !env.Redis.Mini.Exists("lock:hot") && p.GetMetrics().LockAcquisitions == 3 },
		within, "the refused refresh released the lock it took")
	env.Repo.Release()
	require.NoError(t, <-errs)
	assert.Equal(t, int64(1), env.Repo.LoadsOf("hot"), "the refused refresh queried the database")
}

// TestShedding_WaitingForAnotherProcessHoldsNoSlot: a process whose load waits for another process's load of the
// key gives its slot back meanwhile, so that its own loads of other keys are not shed because another process is
// slow.
func TestShedding_WaitingForAnotherProcessHoldsNoSlot(t *testing.T) {
	env := testutil.NewRealEnv(t)
	cfg := sheddingConfig(env, 1, 0)
	a, b := env.Protector(t, cfg), env.Protector(t, cfg)
	env.Repo.Hold()
	errs := make(chan error, 3)
	go getInto(a, "slow", errs) // a holds the lock of key slow, its load held in the database
	env.Repo.WaitInFlight(t, 1, "a's load of key slow")
	go getInto(b, "slow", errs) // b waits for a's value
	testutil.Eventually(t, func() bool { return b.GetMetrics().LockWaits == 1 }, within, "b waits for a's load")
	go getInto(b, "other", errs)
	env.Repo.WaitInFlight(t, 2, "b's load of key other, with the slot its wait gave back")
	env.Repo.Release()
	for range 3 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int64(1), env.Repo.LoadsOf("slow"), "one load of key slow across the processes")
	assert.Zero(t, b.GetMetrics().Shed)
}
