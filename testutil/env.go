// Package testutil is the shared test harness of the workbook: the switch that picks the implementation under test
// (the learner's day45 by default, the reference solution under -tags solution), a Redis per test (miniredis, or a
// reserved database of REDIS_ADDR), a fake clock that also moves miniredis's TTLs, a controllable fake database, a
// herd of goroutines released at once, and a goroutine-leak check. Tests wait by condition or by clock, never by
// sleeping.
package testutil

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Env is the world of one test: a Redis, a fake clock and a fake database.
type Env struct {
	Redis *Redis
	Clock *Clock
	Repo  *Repo
}

// NewEnv returns an Env on an embedded miniredis whose TTLs follow the fake clock, so tests travel in time with
// Clock.Advance. The repository stamps UpdatedAt with the same clock.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	r := StartMiniredis(t)
	c := NewClock(time.Time{})
	c.Attach(r.Mini)
	return newEnv(r, c)
}

// NewRealEnv returns an Env on StartRedis: the Redis Cluster of REDIS_CLUSTER_ADDRS, else the real server of
// REDIS_ADDR, else miniredis. On a real Redis the clock moves Config.Now but not Redis's TTLs, so tests on it must
// not rely on Advance expiring keys.
func NewRealEnv(t testing.TB) *Env {
	t.Helper()
	return onRedis(StartRedis(t))
}

// NewServerEnv is NewRealEnv on a single server (StartServer), never a cluster: for tests that put a proxy in front
// of Redis.
func NewServerEnv(t testing.TB) *Env {
	t.Helper()
	return onRedis(StartServer(t))
}

func onRedis(r *Redis) *Env {
	c := NewClock(time.Time{})
	if !r.Real() {
		c.Attach(r.Mini)
	}
	return newEnv(r, c)
}

func newEnv(r *Redis, c *Clock) *Env {
	repo := NewRepo()
	repo.SetNow(c.Now)
	return &Env{Redis: r, Clock: c, Repo: repo}
}

// Config returns DefaultConfig on the Env's clock, with budgets for a test machine: a herd of a thousand goroutines
// on an embedded miniredis under the race detector, with other test binaries beside it on two cores, can queue for
// a pooled connection far longer than the production budget of a Redis operation. The lock's TTL and wait grow to
// keep the Config valid (LockTTL covers the load and three Redis operations). The fault tests set their own budgets.
func (e *Env) Config() Config {
	cfg := DefaultConfig()
	cfg.Now = e.Clock.Now
	cfg.CacheTimeout = TestCacheTimeout
	cfg.LoadTimeout = 3 * time.Second
	cfg.LockTTL = 20 * time.Second
	cfg.LockWait = 21 * time.Second
	return cfg
}

// TestCacheTimeout is the Redis budget of Env.Config.
const TestCacheTimeout = 5 * time.Second

// Protector returns a protector on a new Redis client of its own (a process of its own) and the Env's repository,
// closed at cleanup. A test may Close it itself: the cleanup then ignores ErrClosed.
func (e *Env) Protector(t testing.TB, cfg Config) *Protector {
	t.Helper()
	p, err := NewProtector(e.Redis.Client(t), e.Repo, cfg)
	if err != nil {
		t.Fatalf("testutil: NewProtector: %v", err)
	}
	t.Cleanup(func() {
		// Close waits for running loads: open the gate first, or a test that failed while holding it hangs here.
		e.Repo.Release()
		if err := p.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("testutil: closing the protector: %v", err)
		}
	})
	return p
}

// WaitWriteBack waits until the write-back of a load has landed: dataKey exists and lockKey, which the holder
// releases after the store, is gone. Get answers before its value is stored, so a test that inspects Redis or moves
// the clock right after a Get waits here first.
func (e *Env) WaitWriteBack(t testing.TB, dataKey, lockKey string) {
	t.Helper()
	c := e.Redis.Client(t)
	landed := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
		defer cancel()
		n, err := c.Exists(ctx, dataKey).Result()
		held, err2 := c.Exists(ctx, lockKey).Result()
		return err == nil && err2 == nil && n == 1 && held == 0
	}
	Eventually(t, landed, 5*time.Second, "the write-back did not land: want %s stored and %s released", dataKey, lockKey)
}

// Flush empties the test's Redis database, as a Redis that restarts without persistence does.
func (e *Env) Flush(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	if err := flushAll(ctx, e.Redis.Client(t)); err != nil {
		t.Fatalf("testutil: FLUSHDB: %v", err)
	}
}
