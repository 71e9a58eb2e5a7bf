//go:build solution

package day45_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGet_HitIsOneRoundTrip(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Key: "k", Value: "cached"}, time.Minute))
	before := env.Redis.Mini.CommandCount()
	mustGet(t, p, "k", "cached")
	n := env.Redis.Mini.CommandCount() - before
	assert.Equal(t, 1, n, "a cache hit sent %d Redis commands, want 1", n)
	assert.Zero(t, env.Repo.Loads(), "a cache hit made %d DB queries, want 0", env.Repo.Loads())
}

func TestGet_MissLoadsStoresAndHits(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.KeyPrefix = "app:" })
	mustGet(t, p, "k", "value:k")
	mustGet(t, p, "k", "value:k")
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "two Gets made %d DB queries, want 1", got)
	env.WaitWriteBack(t, "app:k", "app:lock:k")
	assert.True(t, env.Redis.Mini.Exists("app:k"), "value not stored under KeyPrefix+key; keys: %v", env.Redis.Mini.Keys())
	assert.False(t, env.Redis.Mini.Exists("app:lock:k"), "lock app:lock:k still held after the load")
	// Physical expiry = TTL + StaleTTL, so that a stale value still exists to be served.
	cfg := day45.DefaultConfig()
	ttl := env.Redis.Mini.TTL("app:k")
	assert.Equal(t, cfg.TTL+cfg.StaleTTL, ttl, "Redis TTL = %v, want TTL+StaleTTL = %v", ttl, cfg.TTL+cfg.StaleTTL)
}

func TestGet_HerdOfOneThousandMakesOneQuery(t *testing.T) {
	env := testutil.NewRealEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	const n = 1000
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error {
			d, err := p.Get(context.Background(), "hot")
			if err == nil && d.Value != "value:hot" {
				return errors.New("wrong value " + d.Value)
			}
			return err
		})
	}()
	// Hold the load until every caller has joined it: the worst case for a herd.
	testutil.Eventually(t, func() bool { return testutil.Parked(testutil.WaitingCaller) == n }, within,
		"want %d callers waiting on the one load; metrics %+v", n-1, p.GetMetrics())
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d of %d Gets failed, first: %v", r.Failed(), n, r.FirstErr())
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d concurrent Gets caused %d DB queries; want 1", n, got)
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.DBQueries, "metrics %+v, want DBQueries 1, LockAcquisitions 1, CacheMisses %d", m, n)
	assert.Equal(t, int64(1), m.LockAcquisitions, "metrics %+v, want DBQueries 1, LockAcquisitions 1, CacheMisses %d", m, n)
	assert.Equal(t, int64(n), m.CacheMisses, "metrics %+v, want DBQueries 1, LockAcquisitions 1, CacheMisses %d", m, n)
}

func TestGet_ProcessesCoordinateThroughTheLock(t *testing.T) {
	for _, procs := range []int{2, 4, 8} {
		t.Run(strings.Repeat("p", procs), func(t *testing.T) {
			env := testutil.NewRealEnv(t)
			ps := make([]*day45.ThunderingHerdProtector, procs)
			for i := range ps {
				ps[i] = newProtector(t, env) // each has its own Redis client: a separate process
			}
			env.Repo.Hold()
			const perProc = 100
			res := make(chan testutil.HerdResult, 1)
			go func() {
				res <- testutil.Herd(procs*perProc, func(i int) error {
					_, err := ps[i%procs].Get(context.Background(), "hot")
					return err
				})
			}()
			// One process holds the lock and is loading; every other one waits on the cache.
			testutil.Eventually(t, func() bool {
				var waits int64
				for _, p := range ps {
					waits += p.GetMetrics().LockWaits
				}
				return env.Repo.Loads() == 1 && waits == int64(procs-1)
			}, within, "want 1 load and %d processes waiting on the lock", procs-1)
			env.Repo.Release()
			r := <-res
			require.Zero(t, r.Failed(), "%d Gets failed, first: %v", r.Failed(), r.FirstErr())
			got := env.Repo.Loads()
			assert.Equal(t, int64(1), got, "%d processes x %d goroutines caused %d DB queries; want 1", procs, perProc, got)
		})
	}
}

func TestLoad_RecheckAfterTheLock(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	// Another process stored the value between this process's miss and its lock.
	require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Value: "stored by another process"}, time.Minute))
	d, err := day45.Load(p, t.Context(), "k")
	require.NoError(t, err, "load = %v, %v; want the value found by the re-check", d, err)
	require.Equal(t, "stored by another process", d.Value, "load = %v, %v; want the value found by the re-check", d, err)
	assert.Zero(t, env.Repo.Loads(), "the lock holder loaded from the DB although the cache was fresh: no re-check after the lock")
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.LockAcquisitions, "LockAcquisitions = %d, want 1", m.LockAcquisitions)
}

func TestGet_WaiterDeadlineDoesNotWaitForTheLoad(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	leader := make(chan error, 1)
	go func() {
		_, err := p.Get(context.Background(), "k")
		leader <- err
	}()
	env.Repo.WaitLoads(t, 1, "the leader's load never started")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := p.Get(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "waiter whose deadline passed got %v, want context.DeadlineExceeded", err)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "waiter started its own load: %d DB queries, want 1", got)
	env.Repo.Release()
	require.NoError(t, <-leader, "leader")
}

func TestGet_LeaderCancellationDoesNotFailTheOthers(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, err := p.Get(ctx, "k")
		leader <- err
	}()
	env.Repo.WaitLoads(t, 1, "the leader's load never started")

	const n = 10
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error { _, err := p.Get(context.Background(), "k"); return err })
	}()
	testutil.Eventually(t, func() bool { return testutil.Parked(testutil.WaitingCaller) == n+1 }, within, "waiters never joined the load")
	cancel()
	err := <-leader
	require.ErrorIs(t, err, context.Canceled, "cancelled leader got %v, want context.Canceled", err)
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "the leader's cancellation failed %d of %d waiters, first: %v", r.Failed(), n, r.FirstErr())
	// The load finished on its detached context and filled the cache.
	mustGet(t, p, "k", "value:k")
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d DB queries, want 1", got)
}

func TestGet_CancelledContext(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled, "Get with a cancelled ctx = %v, want context.Canceled", err)
}

func TestGet_LoaderPanicBecomesAnError(t *testing.T) {
	env := testutil.NewEnv(t)
	// Late callers may start loads of their own after the first one panicked: keep the breaker out of this test.
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 1000 })
	env.Repo.Panic("boom")
	r := testutil.Herd(50, func(int) error { _, err := p.Get(context.Background(), "k"); return err })
	require.Zero(t, r.OK(), "%d Gets succeeded while the loader panicked", r.OK())
	err := r.FirstErr()
	assert.ErrorContains(t, err, "panicked", "error %q does not say the loader panicked with boom", err)
	assert.ErrorContains(t, err, "boom", "error %q does not say the loader panicked with boom", err)
	m := p.GetMetrics()
	assert.Equal(t, m.DBQueries, m.DBErrors, "a panicking load must count as a DB error: %+v", m)
	assert.NotZero(t, m.DBQueries, "a panicking load must count as a DB error: %+v", m)
	env.Repo.Panic(nil)
	mustGet(t, p, "k", "value:k")
}

func TestGet_NotFoundIsAnAnswer(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 2 })
	env.Repo.Missing("ghost")
	for range 10 {
		_, err := p.Get(t.Context(), "ghost")
		require.ErrorIs(t, err, day45.ErrNotFound, "Get(missing) = %v, want ErrNotFound", err)
	}
	mustGet(t, p, "k", "value:k") // the breaker did not open
	m := p.GetMetrics()
	assert.Zero(t, m.CircuitBreakerTrips, "not-found counted as a failure: %+v", m)
	assert.Zero(t, m.DBErrors, "not-found counted as a failure: %+v", m)
}

func TestGet_BreakerShieldsTheDatabase(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 3; c.BreakerTimeout = 10 * time.Second })
	dbDown := errors.New("db down")
	env.Repo.Fail(dbDown)
	for i := range 20 {
		_, err := p.Get(t.Context(), "k"+string(rune('a'+i)))
		if i < 3 {
			require.ErrorIs(t, err, dbDown, "Get %d = %v, want the DB error (wrapped)", i, err)
		} else {
			require.ErrorIs(t, err, day45.ErrCircuitOpen, "Get %d = %v, want ErrCircuitOpen", i, err)
		}
	}
	got := env.Repo.Loads()
	assert.Equal(t, int64(3), got, "20 Gets against a failing DB made %d queries, want 3 (the threshold)", got)
	env.Repo.Fail(nil)
	env.Clock.Advance(10 * time.Second)
	mustGet(t, p, "recovered", "value:recovered")
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.CircuitBreakerTrips, "metrics %+v, want 1 trip, 3 DB errors, 4 DB queries", m)
	assert.Equal(t, int64(3), m.DBErrors, "metrics %+v, want 1 trip, 3 DB errors, 4 DB queries", m)
	assert.Equal(t, int64(4), m.DBQueries, "metrics %+v, want 1 trip, 3 DB errors, 4 DB queries", m)
}

func TestGet_StaleIfError(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(env *testutil.Env)
	}{
		{"db fails", func(env *testutil.Env) { env.Repo.Fail(errors.New("db down")) }},
		{"db panics", func(env *testutil.Env) { env.Repo.Panic("boom") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := testutil.NewEnv(t)
			p := newProtector(t, env, func(c *day45.Config) { c.TTL = time.Minute; c.StaleTTL = time.Minute })
			require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Key: "k", Value: "old"}, time.Minute))
			env.Clock.Advance(90 * time.Second) // stale, not yet deleted
			tc.break_(env)
			mustGet(t, p, "k", "old")
			m := p.GetMetrics()
			assert.Equal(t, int64(1), m.StaleReturns, "metrics %+v, want 1 stale return after 1 failed query", m)
			assert.Equal(t, int64(1), m.DBQueries, "metrics %+v, want 1 stale return after 1 failed query", m)
			env.Clock.Advance(31 * time.Second) // past TTL+StaleTTL: Redis deleted it
			_, err := p.Get(t.Context(), "k")
			assert.Error(t, err, "Get after the stale window succeeded without a DB; want the DB error")
		})
	}
}

func TestGet_StaleWhenBreakerOpenOrDeleted(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 1; c.TTL = time.Minute })
	require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Key: "k", Value: "old"}, time.Minute))
	env.Clock.Advance(61 * time.Second) // k is stale
	env.Repo.Fail(errors.New("db down"))
	_, err := p.Get(t.Context(), "other") // opens the breaker
	require.Error(t, err, "want an error from the failing DB")
	mustGet(t, p, "k", "old") // breaker open: stale served without a query
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d DB queries, want 1: the open breaker must not call the DB", got)
	// A key deleted from the DB is not served stale.
	env.Repo.Fail(nil)
	env.Clock.Advance(10 * time.Second) // half-open: one probe
	env.Repo.Missing("k")
	_, err = p.Get(t.Context(), "k")
	assert.ErrorIs(t, err, day45.ErrNotFound, "Get of a key deleted from the DB = %v, want ErrNotFound, not the stale value", err)
}

func TestGet_DeadLockHolderExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) {
		c.LockTTL = 5 * time.Second
		c.LoadTimeout = 2 * time.Second
		c.CacheTimeout = time.Second
	})
	// A process took the lock and died: nobody will store the value or release the lock.
	require.NoError(t, env.Redis.Mini.Set("lock:k", "dead-owner"))
	env.Redis.Mini.SetTTL("lock:k", 5*time.Second)
	got := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); got <- err }()
	testutil.Eventually(t, func() bool { return p.GetMetrics().LockWaits == 1 }, within, "Get never waited on the held lock")
	require.Zero(t, env.Repo.Loads(), "Get loaded while another owner held the lock")
	env.Clock.Advance(5 * time.Second) // the dead holder's lock expires
	require.NoError(t, <-got, "Get after the lock expired")
	m := p.GetMetrics()
	assert.Equal(t, int64(1), env.Repo.Loads(), "want 1 DB query under our own lock after expiry; loads %d, metrics %+v", env.Repo.Loads(), m)
	assert.Equal(t, int64(1), m.LockAcquisitions, "want 1 DB query under our own lock after expiry; loads %d, metrics %+v", env.Repo.Loads(), m)
}

func TestGet_LockWaitTimesOut(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.LockWait = 30 * time.Millisecond })
	require.NoError(t, env.Redis.Mini.Set("lock:k", "other-owner"))
	_, err := p.Get(t.Context(), "k")
	require.ErrorIs(t, err, day45.ErrLockTimeout, "Get while another owner holds the lock past LockWait = %v, want ErrLockTimeout", err)
	assert.Zero(t, env.Repo.Loads(), "Get loaded without the lock after timing out")
	// With a stale value at hand, the timeout serves it instead.
	require.NoError(t, p.Set(t.Context(), "k", &day45.Data{Value: "old"}, time.Second))
	env.Clock.Advance(2 * time.Second)
	mustGet(t, p, "k", "old")
}

func TestGet_LockReleasedWithoutValueCompetesAgain(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	require.NoError(t, env.Redis.Mini.Set("lock:k", "other-owner"))
	got := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); got <- err }()
	testutil.Eventually(t, func() bool { return p.GetMetrics().LockWaits == 1 }, within, "Get never waited on the lock")
	env.Redis.Mini.Del("lock:k") // the other owner failed and released without storing
	require.NoError(t, <-got, "Get")
	assert.Equal(t, int64(1), env.Repo.Loads(), "want one load after competing again, got %d", env.Repo.Loads())
}

func TestGet_RedisDown(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	p2, err := day45.NewThunderingHerdProtector(testutil.DeadClient(t), env.Repo, func() day45.Config {
		c := env.Config()
		c.JitterPercent = 0
		return c
	}())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p2.Close() })
	env.Repo.Hold()
	const n = 200
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error {
			d, err := p2.Get(context.Background(), "k")
			if err == nil && d.Value != "value:k" {
				return errors.New("wrong value")
			}
			return err
		})
	}()
	testutil.Eventually(t, func() bool { return testutil.Parked(testutil.WaitingCaller) == n }, within,
		"callers did not coalesce while Redis was down: %+v", p2.GetMetrics())
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d of %d Gets failed with Redis down, first: %v", r.Failed(), n, r.FirstErr())
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "Redis down: %d Gets caused %d DB queries; want 1 (singleflight must still stand)", n, got)
	m := p2.GetMetrics()
	assert.NotZero(t, m.CacheErrors, "Redis failures not counted: %+v", m)

	// Redis going away under a working protector, then coming back.
	mustGet(t, p, "j", "value:j")
	env.Redis.Stop()
	d, err := p.Get(context.Background(), "k2")
	require.NoError(t, err, "Get with Redis stopped = %v, %v; want the DB's answer", d, err)
	require.Equal(t, "value:k2", d.Value, "Get with Redis stopped = %v, %v; want the DB's answer", d, err)
	env.Redis.Restart(t)
}

func TestGet_CorruptEntriesAreMissesAndOverwritten(t *testing.T) {
	for _, raw := range []string{"", "garbage", "th1|", "th1|123|{broken", `{"key":"k","value":"v"}`} {
		env := testutil.NewEnv(t)
		p := newProtector(t, env)
		require.NoError(t, env.Redis.Mini.Set("k", raw))
		mustGet(t, p, "k", "value:k")
		m := p.GetMetrics()
		assert.Equal(t, int64(1), m.CacheErrors, "entry %q: metrics %+v, want 1 cache error and 1 miss", raw, m)
		assert.Equal(t, int64(1), m.CacheMisses, "entry %q: metrics %+v, want 1 cache error and 1 miss", raw, m)
		mustGet(t, p, "k", "value:k") // overwritten: now a hit
		assert.Equal(t, int64(1), env.Repo.Loads(), "entry %q was not overwritten: %d loads", raw, env.Repo.Loads())
	}
}

func TestBadInput(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	long := strings.Repeat("k", 1025)
	ctx := t.Context()
	client := env.Redis.Client(t)
	cases := []struct {
		name, mention string
		call          func() error
	}{
		{"Get empty key", "empty key", func() error { _, err := p.Get(ctx, ""); return err }},
		{"Get long key", "1025 bytes", func() error { _, err := p.Get(ctx, long); return err }},
		{"SWR empty key", "empty key", func() error { _, err := p.GetStaleWhileRevalidate(ctx, ""); return err }},
		{"Set empty key", "empty key", func() error { return p.Set(ctx, "", &day45.Data{}, time.Second) }},
		{"Set lock namespace", "lock:", func() error { return p.Set(ctx, "lock:sku-1", &day45.Data{}, time.Second) }},
		{"Get lock namespace", "lock:", func() error { _, err := p.Get(ctx, "lock:sku-1"); return err }},
		{"Set nil value", "nil value", func() error { return p.Set(ctx, "k", nil, time.Second) }},
		{"Set zero ttl", "ttl", func() error { return p.Set(ctx, "k", &day45.Data{}, 0) }},
		{"Set negative ttl", "ttl", func() error { return p.Set(ctx, "k", &day45.Data{}, -time.Second) }},
		{"zero-value protector", "NewThunderingHerdProtector", func() error {
			_, err := new(day45.ThunderingHerdProtector).Get(ctx, "k")
			return err
		}},
		{"nil cache", "nil cache", func() error {
			_, err := day45.NewThunderingHerdProtector(nil, env.Repo, day45.DefaultConfig())
			return err
		}},
		{"nil repository", "nil data repository", func() error {
			_, err := day45.NewThunderingHerdProtector(client, nil, day45.DefaultConfig())
			return err
		}},
		{"lock without client", "client", func() error { return day45.NewDistributedLock(nil, "k", time.Second).Acquire(ctx) }},
		{"lock empty key", "empty lock key", func() error { return day45.NewDistributedLock(client, "", time.Second).Acquire(ctx) }},
		{"lock zero ttl", "ttl", func() error { return day45.NewDistributedLock(client, "l", 0).Acquire(ctx) }},
	}
	configs := []struct {
		mention string
		mutate  func(*day45.Config)
	}{
		{"TTL", func(c *day45.Config) { c.TTL = -1 }},
		{"StaleTTL", func(c *day45.Config) { c.StaleTTL = -1 }},
		{"LockWait", func(c *day45.Config) { c.LockWait = -1 }},
		{"LockPollInterval", func(c *day45.Config) { c.LockPollInterval = -time.Second }},
		{"BreakerThreshold", func(c *day45.Config) { c.BreakerThreshold = -1 }},
		{"BreakerTimeout", func(c *day45.Config) { c.BreakerTimeout = -1 }},
		{"JitterPercent", func(c *day45.Config) { c.JitterPercent = -0.1 }},
		{"JitterPercent", func(c *day45.Config) { c.JitterPercent = 1 }},
		{"JitterPercent", func(c *day45.Config) { c.JitterPercent = nan() }},
		{"XFetchBeta", func(c *day45.Config) { c.XFetchBeta = -1 }},
		{"XFetchBeta", func(c *day45.Config) { c.XFetchBeta = nan() }},
		{"XFetchBeta", func(c *day45.Config) { c.XFetchBeta = 1 / zero() }},
		{"NegativeTTL", func(c *day45.Config) { c.NegativeTTL = -time.Second }},
		{"MaxConcurrentLoads", func(c *day45.Config) { c.MaxConcurrentLoads = -1 }},
		{"MaxWaitersPerKey", func(c *day45.Config) { c.MaxWaitersPerKey = -1 }},
		{"is shorter than LoadTimeout", func(c *day45.Config) { c.LoadTimeout = 10 * time.Second; c.LockTTL = 5 * time.Second }},
	}
	for _, c := range configs {
		cfg := day45.DefaultConfig()
		c.mutate(&cfg)
		cases = append(cases, struct {
			name, mention string
			call          func() error
		}{"Config " + c.mention, c.mention, func() error {
			_, err := day45.NewThunderingHerdProtector(client, env.Repo, cfg)
			return err
		}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, day45.ErrInvalidArgument, "got %v, want an error wrapping ErrInvalidArgument", err)
			assert.ErrorContains(t, err, tc.mention, "error %q does not say what was wrong (want it to mention %q)", err, tc.mention)
		})
	}
	assert.Zero(t, env.Repo.Loads(), "bad input reached the DB (%d loads) or Redis (keys %v)", env.Repo.Loads(), env.Redis.Mini.Keys())
	assert.Empty(t, env.Redis.Mini.Keys(), "bad input reached the DB (%d loads) or Redis (keys %v)", env.Repo.Loads(), env.Redis.Mini.Keys())
}

func nan() float64 { var z float64; return z / z }

func zero() float64 { return 0 }

func TestConfig_ZeroFieldsTakeDefaults(t *testing.T) {
	env := testutil.NewEnv(t)
	p, err := day45.NewThunderingHerdProtector(env.Redis.Client(t), env.Repo, day45.Config{Now: env.Clock.Now})
	require.NoError(t, err, "zero Config")
	defer p.Close()
	mustGet(t, p, "k", "value:k")
	env.WaitWriteBack(t, "k", "lock:k")
	ttl := env.Redis.Mini.TTL("k")
	assert.Equal(t, 5*time.Minute, ttl, "zero Config stored with TTL %v, want the default 5m (no jitter, no stale window)", ttl)
}

func TestGet_WaitersGetTheirOwnCopy(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	var mu sync.Mutex
	var got []*day45.Data
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(10, func(int) error {
			d, err := p.Get(context.Background(), "k")
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
			return err
		})
	}()
	testutil.Eventually(t, func() bool { return testutil.Parked(testutil.WaitingCaller) == 10 }, within, "callers did not coalesce")
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%v", r.FirstErr())
	got[0].Value = "mutated by one caller"
	for _, d := range got[1:] {
		require.NotSame(t, got[0], d, "callers share one *Data: a caller's mutation leaked to another (%q)", d.Value)
		require.Equal(t, "value:k", d.Value, "callers share one *Data: a caller's mutation leaked to another (%q)", d.Value)
	}
}

func TestClose(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	mustGet(t, p, "k", "value:k")
	require.NoError(t, p.Close(), "Close")
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"Get":   func() error { _, err := p.Get(ctx, "k"); return err },
		"SWR":   func() error { _, err := p.GetStaleWhileRevalidate(ctx, "k"); return err },
		"Set":   func() error { return p.Set(ctx, "k", &day45.Data{}, time.Second) },
		"Close": p.Close,
	} {
		err := call()
		assert.ErrorIs(t, err, day45.ErrClosed, "%s after Close = %v, want ErrClosed", name, err)
	}
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.TotalRequests, "GetMetrics after Close = %+v, want the final counts", m)
	err := new(day45.ThunderingHerdProtector).Close()
	assert.NoError(t, err, "Close of a zero protector = %v, want nil", err)
}

func TestClose_WaitsForRunningLoads(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() { _, err := p.Get(ctx, "k"); got <- err }()
	env.Repo.WaitLoads(t, 1, "load never started")
	cancel() // the caller leaves; the load goes on, owned by the protector
	<-got
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	testutil.Eventually(t, func() bool { _, err := p.Get(context.Background(), "x"); return errors.Is(err, day45.ErrClosed) },
		within, "Close did not start")
	select {
	case err := <-closed:
		require.Fail(t, fmt.Sprintf("Close returned (%v) while a load was still running", err))
	default:
	}
	env.Repo.Release()
	require.NoError(t, <-closed, "Close")
	assert.True(t, env.Redis.Mini.Exists("k"), "the load finished after Close returned, or was lost: value not stored")
}

// TestGet_AFailedLoadIsNotShared checks the decision not to call Forget: singleflight removes a key before it
// hands out the result, so the callers of a failed load share its error, and the next caller loads afresh instead
// of receiving that error again.
func TestGet_AFailedLoadIsNotShared(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 100 })
	env.Repo.Fail(errors.New("db down"))
	env.Repo.Hold()
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(10, func(int) error { _, err := p.Get(context.Background(), "k"); return err })
	}()
	testutil.Eventually(t, func() bool { return testutil.Parked(testutil.WaitingCaller) == 10 }, within, "callers did not coalesce")
	env.Repo.Release()
	r := <-res
	assert.Equal(t, 10, r.Failed(), "the callers of the failed load share its error")
	assert.Equal(t, int64(1), env.Repo.Loads(), "one load for the ten callers")
	env.Repo.Fail(nil)
	mustGet(t, p, "k", "value:k")
	assert.Equal(t, int64(2), env.Repo.Loads(), "the next caller after a failed load must load again, not get the old error")
}

// TestGet_NoUserKeyIsALockKey: with a shared KeyPrefix, the data key of "lock:sku-1" would be the lock key of
// "sku-1", so caching it would block every load of sku-1 for LockWait. Such keys are refused.
func TestGet_NoUserKeyIsALockKey(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.KeyPrefix = "app:"; c.LockWait = time.Second })
	err := p.Set(t.Context(), "lock:sku-1", &day45.Data{Value: "x"}, time.Minute)
	require.ErrorIs(t, err, day45.ErrInvalidArgument, "Set of a key in the lock namespace")
	assert.False(t, env.Redis.Mini.Exists("app:lock:sku-1"), "a refused Set wrote the lock key of another key")
	mustGet(t, p, "sku-1", "value:sku-1")
	assert.Zero(t, p.GetMetrics().LockWaits, "sku-1 waited on a lock that nobody held")
}
