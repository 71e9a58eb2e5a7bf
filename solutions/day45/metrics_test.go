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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, r.FirstErr(), "%d calls failed, first shown", r.Failed())
	m := p.GetMetrics()
	checkInvariants(t, m)
	assert.Equal(t, int64(n-n/5), m.TotalRequests, "TotalRequests (the %d rejected calls are not requests)", n/5)
	assert.Equal(t, env.Repo.Loads(), m.DBQueries, "DBQueries, want the DB's loads")
	assert.Zero(t, m.DBErrors, "not-found counted as an error: %+v", m)
	assert.Zero(t, m.CacheErrors, "not-found counted as an error: %+v", m)
}

func TestMetrics_CountEachEvent(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.BreakerThreshold = 1; c.TTL = time.Minute })
	ctx := t.Context()
	mustGet(t, p, "a", "value:a") // miss, lock, query
	// Get answers before its store lands: without this wait, the next GET can miss just before the store lands,
	// and that caller finds the lock still held (a miss and a lock wait, not a hit).
	env.WaitWriteBack(t, "a", "lock:a")
	mustGet(t, p, "a", "value:a")                          // hit
	require.NoError(t, env.Redis.Mini.Set("b", "corrupt")) // cache error
	mustGet(t, p, "b", "value:b")                          // miss, lock, query
	env.WaitWriteBack(t, "b", "lock:b")                    // let the store land before time moves
	env.Clock.Advance(61 * time.Second)                    // a and b are stale
	_, err := p.GetStaleWhileRevalidate(ctx, "a")          // stale return + refresh
	require.NoError(t, err)
	testutil.Eventually(t, func() bool { return env.Repo.Completed() == 3 }, within, "refresh did not finish")
	env.Repo.Fail(errors.New("down"))
	mustGet(t, p, "b", "value:b") // stale-if-error; the failure trips the breaker (threshold 1)
	want := day45.ProtectionMetrics{
		TotalRequests: 5, CacheHits: 1, CacheMisses: 4, LockAcquisitions: 4, CircuitBreakerTrips: 1,
		StaleReturns: 2, BackgroundRefresh: 1, DBQueries: 4, DBErrors: 1, CacheErrors: 1,
	}
	assert.Equal(t, want, p.GetMetrics(), "metrics")
}
