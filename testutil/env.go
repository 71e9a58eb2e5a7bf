// Package testutil is the shared test harness of the workbook: the switch that picks the implementation under test
// (the learner's day45 by default, the reference solution under -tags solution), a Redis per test (miniredis, or a
// reserved database of REDIS_ADDR), a fake clock that also moves miniredis's TTLs, a controllable fake database, a
// herd of goroutines released at once, and a goroutine-leak check. Tests wait by condition or by clock, never by
// sleeping.
package testutil

import (
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

// NewRealEnv returns an Env on StartRedis: the real server named by REDIS_ADDR if set, else miniredis. On a real
// server the clock moves Config.Now but not Redis's TTLs, so tests on it must not rely on Advance expiring keys.
func NewRealEnv(t testing.TB) *Env {
	t.Helper()
	r := StartRedis(t)
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

// Config returns DefaultConfig on the Env's clock.
func (e *Env) Config() Config {
	cfg := DefaultConfig()
	cfg.Now = e.Clock.Now
	return cfg
}

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
