//go:build solution

package day45_test

import (
	"context"
	"errors"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// staleEnv returns a protector whose key "k" holds a stale "old" value.
func staleEnv(t *testing.T) (*testutil.Env, *day45.ThunderingHerdProtector) {
	t.Helper()
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) { c.TTL = time.Minute; c.StaleTTL = time.Minute })
	if err := p.Set(t.Context(), "k", &day45.Data{Key: "k", Value: "old"}, time.Minute); err != nil {
		t.Fatal(err)
	}
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
	if r.Failed() != 0 {
		t.Fatalf("%d of %d stale reads failed, first: %v", r.Failed(), n, r.FirstErr())
	}
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	if m := p.GetMetrics(); m.StaleReturns != n || m.BackgroundRefresh != 1 {
		t.Errorf("metrics %+v, want %d stale returns and 1 background refresh", m, n)
	}
	env.Repo.Release()
	if err := p.Close(); err != nil { // waits for the refresh
		t.Fatal(err)
	}
	if got := env.Repo.Loads(); got != 1 {
		t.Errorf("%d stale reads started %d DB queries; want 1", n, got)
	}
	raw, _ := env.Redis.Mini.Get("k")
	d, _, err := day45.DecodeEnvelope([]byte(raw))
	if err != nil || d.Value != "value:k" {
		t.Errorf("after the refresh the cache holds %q (%v), want the DB's value", raw, err)
	}
}

func TestSWR_FreshAndMissing(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	d, err := p.GetStaleWhileRevalidate(t.Context(), "k") // missing: loads like Get
	if err != nil || d.Value != "value:k" {
		t.Fatalf("SWR of a missing key = %v, %v", d, err)
	}
	if _, err := p.GetStaleWhileRevalidate(t.Context(), "k"); err != nil { // fresh: a hit
		t.Fatal(err)
	}
	if m := p.GetMetrics(); m.CacheHits != 1 || m.CacheMisses != 1 || m.BackgroundRefresh != 0 || env.Repo.Loads() != 1 {
		t.Errorf("metrics %+v, loads %d; want 1 hit, 1 miss, no refresh, 1 load", m, env.Repo.Loads())
	}
	env.Repo.Missing("ghost")
	if _, err := p.GetStaleWhileRevalidate(t.Context(), "ghost"); !errors.Is(err, day45.ErrNotFound) {
		t.Errorf("SWR of a key the DB lacks = %v, want ErrNotFound", err)
	}
}

func TestSWR_RefreshAndAConcurrentGetLoadOnce(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Hold()
	if _, err := p.GetStaleWhileRevalidate(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	got := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); got <- err }()
	// The refresh holds the key's lock, so the Get waits for its value.
	testutil.Eventually(t, func() bool { return p.GetMetrics().LockWaits == 1 }, within, "Get did not wait for the refresh")
	env.Repo.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if env.Repo.Loads() != 1 {
		t.Errorf("refresh and Get made %d queries, want 1", env.Repo.Loads())
	}
}

func TestSWR_CloseWaitsForTheRefresh(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Hold()
	if _, err := p.GetStaleWhileRevalidate(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	env.Repo.WaitLoads(t, 1, "no background refresh started")
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	testutil.Eventually(t, func() bool {
		_, err := p.GetStaleWhileRevalidate(context.Background(), "k")
		return errors.Is(err, day45.ErrClosed)
	}, within, "Close did not start")
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the refresh was still running", err)
	default:
	}
	env.Repo.Release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if env.Repo.Completed() != 1 {
		t.Errorf("Close returned before the refresh completed")
	}
}

func TestSWR_FailedRefreshKeepsServingStale(t *testing.T) {
	env, p := staleEnv(t)
	env.Repo.Fail(errors.New("db down"))
	for want := int64(1); want <= 3; want++ {
		// Each read answers stale at once; a new refresh starts once the previous one has finished.
		testutil.Eventually(t, func() bool {
			d, err := p.GetStaleWhileRevalidate(context.Background(), "k")
			if err != nil || d.Value != "old" {
				t.Fatalf("stale read while the DB fails = %v, %v; want the stale value", d, err)
			}
			return p.GetMetrics().DBErrors >= want
		}, within, "refresh %d never ran", want)
	}
}
