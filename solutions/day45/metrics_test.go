//go:build solution

package day45_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

func TestMetrics_InvariantsUnderLoad(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 1000 })
	env.Repo.Missing("ghost")
	env.Repo.SetLatency(time.Millisecond)

	// Snapshots taken while the workload runs must keep the invariants too.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				checkInvariants(t, p.GetMetrics())
			}
		}
	}()
	const n = 400
	r := testutil.Herd(n, func(i int) error {
		key := fmt.Sprint("k", i%7)
		switch i % 5 {
		case 0:
			_, err := p.Get(context.Background(), "ghost")
			if errors.Is(err, day45.ErrNotFound) {
				return nil
			}
			return err
		case 1:
			_, err := p.GetStaleWhileRevalidate(context.Background(), key)
			return err
		case 2:
			_, err := p.Get(context.Background(), "") // rejected: not a request
			if errors.Is(err, day45.ErrInvalidArgument) {
				return nil
			}
			return err
		default:
			_, err := p.Get(context.Background(), key)
			return err
		}
	})
	close(stop)
	wg.Wait()
	if r.Failed() != 0 {
		t.Fatalf("%d calls failed, first: %v", r.Failed(), r.FirstErr())
	}
	m := p.GetMetrics()
	checkInvariants(t, m)
	if want := int64(n - n/5); m.TotalRequests != want {
		t.Errorf("TotalRequests = %d, want %d (the %d rejected calls are not requests)", m.TotalRequests, want, n/5)
	}
	if m.DBQueries != env.Repo.Loads() {
		t.Errorf("DBQueries = %d, but the DB saw %d loads", m.DBQueries, env.Repo.Loads())
	}
	if m.DBErrors != 0 || m.CacheErrors != 0 {
		t.Errorf("not-found counted as an error: %+v", m)
	}
}

func TestMetrics_CountEachEvent(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 1; c.TTL = time.Minute })
	ctx := t.Context()
	mustGet(t, p, "a", "value:a")                              // miss, lock, query
	mustGet(t, p, "a", "value:a")                              // hit
	if err := env.Redis.Mini.Set("b", "corrupt"); err != nil { // cache error
		t.Fatal(err)
	}
	mustGet(t, p, "b", "value:b")                                  // miss, lock, query
	env.Clock.Advance(61 * time.Second)                            // a and b are stale
	if _, err := p.GetStaleWhileRevalidate(ctx, "a"); err != nil { // stale return + refresh
		t.Fatal(err)
	}
	testutil.Eventually(t, func() bool { return env.Repo.Completed() == 3 }, within, "refresh did not finish")
	env.Repo.Fail(errors.New("down"))
	mustGet(t, p, "b", "value:b") // stale-if-error; the failure trips the breaker (threshold 1)
	want := day45.ProtectionMetrics{
		TotalRequests: 5, CacheHits: 1, CacheMisses: 4, LockAcquisitions: 4, CircuitBreakerTrips: 1,
		StaleReturns: 2, BackgroundRefresh: 1, DBQueries: 4, DBErrors: 1, CacheErrors: 1,
	}
	if got := p.GetMetrics(); got != want {
		t.Errorf("metrics\n got %+v\nwant %+v", got, want)
	}
}
