//go:build solution

package day45_test

import (
	"context"
	"errors"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staleEnv returns a protector whose key "k" holds a stale "old" value.
func staleEnv(t *testing.T) (*testutil.Env, *day45.ThunderingHerdProtector) {
	t.Helper()
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.TTL = time.Minute; c.StaleTTL = time.Minute })
	require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Key: "k", Value: "old"}, time.Minute))
	env.Clock.Advance(61 * time.Second)
	return env, p
}

func TestSWR_StaleAnswersComeBeforeTheRefresh(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Hold()
	const n = 200
	r := testutil.Herd(n, func(int) error {
		d, err := p.GetStaleWhileRevalidate(context.Background(), "k")
		if err == nil && d.Value != "old" {
			return errors.New("got " + d.Value + ", want the stale value")
		}
		return err
	})
	// Every caller has its answer although the DB has not answered yet.
	require.NoError(t, r.FirstErr(), "%d of %d stale reads failed, first shown", r.Failed(), n)
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	m := p.GetMetrics()
	assert.Equal(t, int64(n), m.StaleReturns, "metrics %+v, want %d stale returns and 1 background refresh", m, n)
	assert.Equal(t, int64(1), m.BackgroundRefresh, "metrics %+v, want %d stale returns and 1 background refresh", m, n)
	env.Repo.Release()
	require.NoError(t, p.Close()) // waits for the refresh
	assert.Equal(t, int64(1), env.Repo.Loads(), "%d stale reads started too many DB queries; want 1", n)
	raw, _ := env.Redis.Mini.Get("k")
	e, err := day45.DecodeEnvelope([]byte(raw))
	require.NoError(t, err, "after the refresh the cache holds %q, want the DB's value", raw)
	require.NotNil(t, e.Data, "after the refresh the cache holds %q, want the DB's value", raw)
	assert.Equal(t, "value:k", e.Data.Value, "after the refresh the cache holds %q, want the DB's value", raw)
}

func TestSWR_FreshAndMissing(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	d, err := p.GetStaleWhileRevalidate(t.Context(), "k") // missing: loads like Get
	require.NoError(t, err, "SWR of a missing key")
	require.Equal(t, "value:k", d.Value, "SWR of a missing key = %v", d)
	env.WaitWriteBack(t, "k", "lock:k")                  // the answer comes before the store: let it land
	_, err = p.GetStaleWhileRevalidate(t.Context(), "k") // fresh: a hit
	require.NoError(t, err)
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.CacheHits, "metrics %+v, loads %d; want 1 hit, 1 miss, no refresh, 1 load", m, env.Repo.Loads())
	assert.Equal(t, int64(1), m.CacheMisses, "metrics %+v, loads %d; want 1 hit, 1 miss, no refresh, 1 load", m, env.Repo.Loads())
	assert.Zero(t, m.BackgroundRefresh, "metrics %+v, loads %d; want 1 hit, 1 miss, no refresh, 1 load", m, env.Repo.Loads())
	assert.Equal(t, int64(1), env.Repo.Loads(), "metrics %+v, loads %d; want 1 hit, 1 miss, no refresh, 1 load", m, env.Repo.Loads())
	env.Repo.Missing("ghost")
	_, err = p.GetStaleWhileRevalidate(t.Context(), "ghost")
	assert.ErrorIs(t, err, day45.ErrNotFound, "SWR of a key the DB lacks")
}

func TestSWR_RefreshAndAConcurrentGetLoadOnce(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Hold()
	_, err := p.GetStaleWhileRevalidate(t.Context(), "k")
	require.NoError(t, err)
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	got := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); got <- err }()
	// The refresh holds the key's lock, so the Get waits for its value.
	testutil.Eventually(t, func() bool { return p.GetMetrics().LockWaits == 1 }, within, "Get did not wait for the refresh")
	env.Repo.Release()
	require.NoError(t, <-got)
	assert.Equal(t, int64(1), env.Repo.Loads(), "queries made by the refresh and the Get, want 1")
}

func TestSWR_CloseWaitsForTheRefresh(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Hold()
	_, err := p.GetStaleWhileRevalidate(t.Context(), "k")
	require.NoError(t, err)
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	testutil.Eventually(t, func() bool {
		_, err := p.GetStaleWhileRevalidate(context.Background(), "k")
		return errors.Is(err, day45.ErrClosed)
	}, within, "Close did not start")
	select {
	case err := <-closed:
		require.Failf(t, "Close did not wait for the refresh", "Close returned (%v) while the refresh was still running", err)
	default:
	}
	env.Repo.Release()
	require.NoError(t, <-closed)
	assert.Equal(t, int64(1), env.Repo.Completed(), "Close returned before the refresh completed")
}

func TestSWR_FailedRefreshKeepsServingStale(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Fail(errors.New("db down"))
	for want := int64(1); want <= 3; want++ {
		// Each read answers stale at once; a new refresh starts once the previous one has finished.
		testutil.Eventually(t, func() bool {
			d, err := p.GetStaleWhileRevalidate(context.Background(), "k")
			require.NoError(t, err, "stale read while the DB fails, want the stale value")
			require.Equal(t, "old", d.Value, "stale read while the DB fails = %v, want the stale value", d)
			return p.GetMetrics().DBErrors >= want
		}, within, "refresh %d never ran", want)
	}
}
