//go:build solution

package day45_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// The cache as a failing dependency, with the client a user would write: redis.NewClient with default options
// (no ContextTimeoutEnabled, 5s read timeout, 3 retries) and DefaultConfig on the Env's clock.

// defaultClientProtector returns a protector on a default go-redis client of addr. The client is closed before the
// protector at cleanup, so that Redis calls the protector abandoned at their budget end at once.
func defaultClientProtector(t *testing.T, env *testutil.Env, addr string) *day45.ThunderingHerdProtector {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr})
	cfg := day45.DefaultConfig()
	cfg.Now = env.Clock.Now
	p, err := day45.NewThunderingHerdProtector(client, env.Repo, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	t.Cleanup(func() { _ = client.Close() })
	return p
}

// timedGet returns what Get answered and how long it took.
func timedGet(p *day45.ThunderingHerdProtector, key string) (*day45.Data, error, time.Duration) {
	start := time.Now()
	d, err := p.Get(context.Background(), key)
	return d, err, time.Since(start)
}

func TestFault_BlackholedRedisCostsOneBudget(t *testing.T) {
	env := testutil.NewEnv(t)
	proxy := testutil.StartProxy(t, env.Redis.Addr)
	p := defaultClientProtector(t, env, proxy.Addr)
	_, err, _ := timedGet(p, "warm") // the pool has live connections, as in production
	require.NoError(t, err)
	proxy.Blackhole()

	d, err, took := timedGet(p, "k")
	require.NoError(t, err, "Get with Redis frozen must answer from the DB")
	assert.Equal(t, "value:k", d.Value)
	// The lookup's budget, then the lock's, then the database: the client's own 5s timeout never shows.
	bound := time.Second
	assert.Less(t, took, bound, "Get with Redis frozen took %v; want under %v", took, bound)
}

func TestFault_BlackholedRedisHerd(t *testing.T) {
	env := testutil.NewEnv(t)
	proxy := testutil.StartProxy(t, env.Redis.Addr)
	p := defaultClientProtector(t, env, proxy.Addr)
	_, err, _ := timedGet(p, "warm")
	require.NoError(t, err)
	proxy.Blackhole()
	env.Repo.SetLatency(20 * time.Millisecond)

	const n = 200
	start := time.Now()
	r := testutil.Herd(n, func(int) error {
		d, err := p.Get(context.Background(), "hot")
		if err == nil && d.Value != "value:hot" {
			return assert.AnError
		}
		return err
	})
	took := time.Since(start)
	require.Zero(t, r.Failed(), "%d of %d Gets failed with Redis frozen, first: %v", r.Failed(), n, r.FirstErr())
	assert.Less(t, took, 1500*time.Millisecond, "a herd of %d on a frozen Redis took %v", n, took)
	assert.LessOrEqual(t, env.Repo.LoadsOf("hot"), int64(1), "a herd of %d on a frozen Redis in one process cost %d DB queries; want 1 per cool-down", n, env.Repo.LoadsOf("hot"))
	m := p.GetMetrics()
	assert.Equal(t, int64(1), m.CacheBreakerTrips, "the cache breaker should have opened once: %+v", m)
	assert.Positive(t, m.CacheSkips, "calls skipped while the cache breaker was open: %+v", m)
}

func TestFault_RefusedRedisIsFasterStill(t *testing.T) {
	env := testutil.NewEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	p := defaultClientProtector(t, env, dead)

	d, err, took := timedGet(p, "k")
	require.NoError(t, err, "Get with Redis refusing connections must answer from the DB")
	assert.Equal(t, "value:k", d.Value)
	bound := time.Second
	assert.Less(t, took, bound, "Get with Redis refusing took %v; want under %v (the client alone spends ~1.7s in dial retries; with the budget each Redis call ends at CacheTimeout)", took, bound)
}

func TestFault_HealResumesHitsWithinOneCooldown(t *testing.T) {
	env := testutil.NewEnv(t)
	proxy := testutil.StartProxy(t, env.Redis.Addr)
	p := defaultClientProtector(t, env, proxy.Addr)
	_, err, _ := timedGet(p, "k") // stored
	require.NoError(t, err)
	env.WaitWriteBack(t, "k", "lock:k")
	proxy.Blackhole()
	for range day45.DefaultConfig().CacheBreakerThreshold + 1 {
		_, err, _ := timedGet(p, "k") // the first ones fail on Redis and open the cache breaker; it answers anyway
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), p.GetMetrics().CacheBreakerTrips, "cache breaker did not open: %+v", p.GetMetrics())
	proxy.Heal()
	env.Clock.Advance(day45.DefaultConfig().CacheBreakerTimeout) // one cool-down: the next call probes Redis
	before := p.GetMetrics().CacheHits
	d, err, _ := timedGet(p, "k")
	require.NoError(t, err)
	assert.Equal(t, "value:k", d.Value)
	assert.Equal(t, before+1, p.GetMetrics().CacheHits, "after Redis healed and one cool-down passed, Get should hit Redis: %+v", p.GetMetrics())
	assert.LessOrEqual(t, env.Repo.LoadsOf("k"), int64(2), "Redis incident cost %d DB queries for one key in one cool-down", env.Repo.LoadsOf("k"))
}
