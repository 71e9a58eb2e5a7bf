//go:build solution

package day45_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// The cache as a failing dependency. Redis sits behind testutil.Proxy (miniredis, or the real server of REDIS_ADDR),
// and every protector has the client a user would write: redis.NewClient with default options (no
// ContextTimeoutEnabled, 5s read timeout, retries), with DefaultConfig on the Env's clock, so that the whole test
// runs within one cache cool-down unless it moves the clock.

const (
	faultProcs   = 4   // protectors, each on its own client: processes
	faultPerProc = 250 // concurrent Gets per process
	faultDB      = 10 * time.Millisecond
)

type faultEnv struct {
	*testutil.Env
	proxy *testutil.Proxy
	cfg   day45.Config
	ps    []*day45.ThunderingHerdProtector
}

func newFaultEnv(t *testing.T, procs int, opts ...func(*day45.Config)) *faultEnv {
	t.Helper()
	return newFaultEnvOn(t, procs, defaultClient, opts...)
}

// A client kind is how the protectors' clients are made. A default client does not honour deadlines, so the
// protector bounds each call on a goroutine of its own; a ContextTimeoutEnabled client does, and the protector runs
// each call inline under a deadline. Both must keep every promise of this file.
type clientKind struct {
	name      string
	deadlines bool // ContextTimeoutEnabled
}

var (
	defaultClient  = clientKind{"default client", false}
	deadlineClient = clientKind{"ContextTimeoutEnabled client", true}
	clientKinds    = []clientKind{defaultClient, deadlineClient}
)

func newFaultEnvOn(t *testing.T, procs int, kind clientKind, opts ...func(*day45.Config)) *faultEnv {
	t.Helper()
	env := testutil.NewServerEnv(t)
	f := &faultEnv{Env: env, proxy: testutil.StartProxy(t, env.Redis.Addr), cfg: day45.DefaultConfig()}
	f.cfg.Now = env.Clock.Now
	f.cfg.JitterPercent = 0
	for _, o := range opts {
		o(&f.cfg)
	}
	env.Repo.SetLatency(faultDB)
	for range procs {
		f.ps = append(f.ps, clientProtector(t, env, f.proxy.Addr, f.cfg, kind))
	}
	return f
}

// clientProtector returns a protector on a go-redis client of addr, of the given kind and otherwise default. The
// client is closed before the protector at cleanup, so that the Redis calls the protector abandoned at their budget
// end at once.
func clientProtector(t *testing.T, env *testutil.Env, addr string, cfg day45.Config, kind clientKind, hooks ...redis.Hook) *day45.ThunderingHerdProtector {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, DB: env.Redis.DB, DialTimeout: 2 * time.Second, ContextTimeoutEnabled: kind.deadlines})
	for _, h := range hooks {
		client.AddHook(h)
	}
	p, err := day45.NewThunderingHerdProtector(client, env.Repo, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	t.Cleanup(func() { _ = client.Close() })
	return p
}

// bound is how long a caller may wait while Redis fails: the lookup's budget, the database (the lock is not tried
// right after a Redis failure), and two seconds for a thousand goroutines on two busy cores under the race detector.
func (f *faultEnv) bound() time.Duration { return f.cfg.CacheTimeout + faultDB + 2*time.Second }

// herd runs faultPerProc Gets of key on every protector at once, each with its own deadline (none when deadline is
// 0), and requires that every caller got the DB's value or its own ctx error; it returns how many got the value.
func (f *faultEnv) herd(t *testing.T, key string, deadline time.Duration) int {
	t.Helper()
	want := "value:" + key
	start := time.Now()
	defer func() {
		t.Logf("%d Gets of %q over %d processes: %v, %d DB queries", len(f.ps)*faultPerProc, key, len(f.ps), time.Since(start).Round(time.Millisecond), f.Repo.LoadsOf(key))
	}()
	r := testutil.Herd(len(f.ps)*faultPerProc, func(i int) error {
		ctx := context.Background()
		if deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, deadline)
			defer cancel()
		}
		d, err := f.ps[i%len(f.ps)].Get(ctx, key)
		switch {
		case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return err // its own deadline: allowed
		case err != nil:
			return fmt.Errorf("unexpected error: %w", err)
		case d.Value != want:
			return fmt.Errorf("got %q, want %q", d.Value, want)
		}
		return nil
	})
	for _, err := range r.Errs {
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			require.NoError(t, err, "a caller got neither the DB's value nor its own ctx error")
		}
	}
	return r.OK()
}

// atMostOnePerProcess checks the promise of the cache breaker: one DB load of key per process per cool-down.
func (f *faultEnv) atMostOnePerProcess(t *testing.T, key string, cooldowns int) {
	t.Helper()
	got, limit := f.Repo.LoadsOf(key), int64(len(f.ps)*cooldowns)
	var per []string
	for _, p := range f.ps {
		per = append(per, fmt.Sprintf("%+v", p.GetMetrics()))
	}
	assert.LessOrEqual(t, got, limit, "%d processes × %d Gets cost %d DB queries of %q; want at most %d (one per process per cool-down); metrics per process:\n%s",
		len(f.ps), faultPerProc, got, key, limit, strings.Join(per, "\n"))
}

func (f *faultEnv) trips() (n int64) {
	for _, p := range f.ps {
		n += p.GetMetrics().CacheBreakerTrips
	}
	return n
}

// TestFault_RedisFails: for each way Redis fails while a herd arrives, every caller is answered from the DB
// within the bound, and the DB sees at most one load per process.
func TestFault_RedisFails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(*testutil.Proxy)
		trips bool // each process's cache breaker opens
	}{
		{"refused", (*testutil.Proxy).Refuse, true},
		{"blackholed", (*testutil.Proxy).Blackhole, true},
		// Close to the 250ms budget: with pool queueing, most calls miss it, but not necessarily three in a row.
		{"200ms latency", func(p *testutil.Proxy) { p.Delay(200 * time.Millisecond) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultEnv(t, faultProcs)
			f.herd(t, "warm", 0) // every client has live pooled connections, which the failure catches mid-use
			tc.fail(f.proxy)
			answered := f.herd(t, "hot", f.bound())
			assert.Equal(t, faultProcs*faultPerProc, answered, "callers answered within %v with Redis %s", f.bound(), tc.name)
			f.atMostOnePerProcess(t, "hot", 1)
			if tc.trips {
				assert.Equal(t, int64(faultProcs), f.trips(), "each process's cache breaker should open once")
			}
		})
	}
}

// healthyBudget is for the tests whose failure is not a slow Redis: a thousand goroutines under the race detector
// can make a healthy miniredis miss the production budget, and a miss changes the path a load takes.
func healthyBudget(c *day45.Config) {
	c.CacheTimeout, c.LockTTL, c.LockWait = testutil.TestCacheTimeout, 20*time.Second, 21*time.Second
}

func TestFault_ResetDuringTheLockWait(t *testing.T) {
	f := newFaultEnv(t, faultProcs, healthyBudget)
	f.Repo.Hold()
	res := make(chan int, 1)
	go func() { res <- f.herd(t, "hot", 0) }()
	// One process holds the lock and loads; the others poll Redis for its value.
	testutil.Eventually(t, func() bool { return f.Repo.Loads() == 1 && f.lockWaits() >= int64(faultProcs-1) }, 10*time.Second,
		"want 1 load and %d processes waiting on the lock; loads %d, waits %d", faultProcs-1, f.Repo.Loads(), f.lockWaits())
	f.proxy.Reset() // every connection, the holder's and the pollers', is cut mid-command
	f.Repo.Release()
	answered := <-res
	assert.Equal(t, faultProcs*faultPerProc, answered, "callers answered after their connections were reset")
	f.atMostOnePerProcess(t, "hot", 1)
}

func (f *faultEnv) lockWaits() (n int64) {
	for _, p := range f.ps {
		n += p.GetMetrics().LockWaits
	}
	return n
}

func TestFault_RestartEmptyMidHerd(t *testing.T) {
	f := newFaultEnv(t, faultProcs, healthyBudget)
	f.Repo.Hold()
	res := make(chan int, 1)
	go func() { res <- f.herd(t, "hot", 0) }()
	testutil.Eventually(t, func() bool { return f.Repo.Loads() == 1 && f.lockWaits() >= int64(faultProcs-1) }, 10*time.Second,
		"want 1 load and %d processes waiting on the lock", faultProcs-1)
	f.proxy.Reset() // Redis restarts without persistence: connections cut, the lock and every key gone
	f.Flush(t)
	f.Repo.Release()
	answered := <-res
	assert.Equal(t, faultProcs*faultPerProc, answered, "callers answered across a Redis restart")
	f.atMostOnePerProcess(t, "hot", 1)
}

func TestFault_HealResumesHitsWithinOneCooldown(t *testing.T) {
	f := newFaultEnv(t, faultProcs, healthyBudget) // the healed herd must not miss a budget on a loaded machine
	f.proxy.Blackhole()
	f.herd(t, "hot", f.bound())
	require.Equal(t, int64(faultProcs), f.trips(), "the cache breakers did not open")
	f.proxy.Heal(t)
	f.Clock.Advance(f.cfg.CacheBreakerTimeout) // one cool-down: each breaker lets one probe through
	for _, p := range f.ps {
		_, err := p.Get(context.Background(), "hot") // the probe: Redis answers, the value is loaded once more and stored
		require.NoError(t, err)
		f.WaitWriteBack(t, "hot", "lock:hot")
	}
	hits := func() (n int64) {
		for _, p := range f.ps {
			n += p.GetMetrics().CacheHits
		}
		return n
	}
	before, queries := hits(), f.Repo.LoadsOf("hot")
	answered := f.herd(t, "hot", f.bound())
	assert.Equal(t, faultProcs*faultPerProc, answered)
	assert.Equal(t, before+int64(faultProcs*faultPerProc), hits(), "after Redis healed and one cool-down passed, every Get should hit Redis")
	assert.Equal(t, queries, f.Repo.LoadsOf("hot"), "the healed herd should cost no DB query")
	f.atMostOnePerProcess(t, "hot", 2)
}

// The issue's own measure, with one protector: a Get against a frozen or a refusing Redis answers from the DB in
// under a second (the client alone waits 5s, or spends ~1.7s in dial retries), and a herd of 200 on a frozen Redis
// in under 1.5s with at most 2 DB queries.

func TestFault_OneGetAgainstAFrozenOrRefusingRedis(t *testing.T) {
	for _, kind := range clientKinds {
		for _, tc := range []struct {
			name string
			fail func(*testutil.Proxy)
		}{{"frozen", (*testutil.Proxy).Blackhole}, {"refused", (*testutil.Proxy).Refuse}} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				f := newFaultEnvOn(t, 1, kind)
				f.herd(t, "warm", 0)
				tc.fail(f.proxy)
				start := time.Now()
				d, err := f.ps[0].Get(context.Background(), "k")
				took := time.Since(start)
				require.NoError(t, err, "Get with Redis %s must answer from the DB", tc.name)
				t.Logf("one Get with Redis %s: %v", tc.name, took.Round(time.Millisecond))
				assert.Equal(t, "value:k", d.Value)
				assert.Less(t, took, time.Second, "Get with Redis %s took %v", tc.name, took)
			})
		}
	}
}

func TestFault_HerdOf200OnAFrozenRedis(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			f := newFaultEnvOn(t, 1, kind)
			f.herd(t, "warm", 0)
			f.proxy.Blackhole()
			start := time.Now()
			r := testutil.Herd(200, func(int) error { _, err := f.ps[0].Get(context.Background(), "hot"); return err })
			took := time.Since(start)
			require.Zero(t, r.Failed(), "first error: %v", r.FirstErr())
			t.Logf("200 Gets with Redis frozen: %v, %d DB queries", took.Round(time.Millisecond), f.Repo.LoadsOf("hot"))
			assert.Less(t, took, 1500*time.Millisecond, "a herd of 200 on a frozen Redis took %v", took)
			assert.LessOrEqual(t, f.Repo.LoadsOf("hot"), int64(2), "a herd of 200 on a frozen Redis cost %d DB queries", f.Repo.LoadsOf("hot"))
			m := f.ps[0].GetMetrics()
			assert.Equal(t, int64(1), m.CacheBreakerTrips, "the cache breaker should open once: %+v", m)
			// The herd's own calls may all have started before the breaker opened (and the write-back runs after
			// the callers have their answer), so the skip is shown by the next Get, within the cool-down.
			queries := f.Repo.LoadsOf("hot")
			d, err := f.ps[0].Get(context.Background(), "hot")
			require.NoError(t, err, "a Get while the cache breaker is open must answer")
			assert.Equal(t, "value:hot", d.Value)
			after := f.ps[0].GetMetrics()
			assert.Greater(t, after.CacheSkips, m.CacheSkips, "a Get while the cache breaker is open should skip Redis: %+v", after)
			assert.Equal(t, queries, f.Repo.LoadsOf("hot"), "the value loaded during the outage should answer the next Get")
		})
	}
}

// panicHook is a client hook that panics on every command, as a buggy tracing hook would.
type panicHook struct{}

func (panicHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (panicHook) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(context.Context, redis.Cmder) error { panic("hook bug") }
}
func (panicHook) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(context.Context, []redis.Cmder) error { panic("hook bug") }
}

// TestGet_PanickingClientIsACacheFailure: a panic inside the Redis client, on the call's own goroutine or on the
// caller's, is a failed Redis call: the caller gets the DB's value and the application does not crash.
func TestGet_PanickingClientIsACacheFailure(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			env := testutil.NewServerEnv(t)
			p := clientProtector(t, env, env.Redis.Addr, env.Config(), kind, panicHook{})
			d, err := p.Get(t.Context(), "k")
			require.NoError(t, err, "Get with a panicking client must answer from the DB")
			assert.Equal(t, "value:k", d.Value)
			m := p.GetMetrics()
			assert.Positive(t, m.CacheErrors, "the panics were not counted as Redis failures: %+v", m)
			assert.Equal(t, int64(1), m.DBQueries, "metrics %+v", m)
		})
	}
}

// whereHook records, for each command, whether it ran on a goroutine of the protector's own (cacheCall.run).
type whereHook struct{ onOwnGoroutine chan bool }

func (h whereHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h whereHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		buf := make([]byte, 64<<10)
		select {
		case h.onOwnGoroutine <- strings.Contains(string(buf[:runtime.Stack(buf, false)]), "(*cacheCall).run("):
		default:
		}
		return next(ctx, cmd)
	}
}
func (h whereHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestCacheCalls_InlineOnlyWhenTheClientHonoursDeadlines: the goroutine that bounds a Redis call is spent only on a
// client that would not end its own waits at the deadline.
func TestCacheCalls_InlineOnlyWhenTheClientHonoursDeadlines(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			env := testutil.NewServerEnv(t)
			hook := whereHook{make(chan bool, 1)}
			p := clientProtector(t, env, env.Redis.Addr, env.Config(), kind, hook)
			_, err := p.Get(t.Context(), "k")
			require.NoError(t, err)
			assert.Equal(t, !kind.deadlines, <-hook.onOwnGoroutine, "the lookup of a %s ran on a goroutine of its own: want %v", kind.name, !kind.deadlines)
		})
	}
	for _, tc := range []struct {
		name   string
		client day45.CacheClient
		want   bool
	}{
		{"ClusterClient", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"ClusterClient, default", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"Ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"Ring, default", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}), false},
	} {
		assert.Equal(t, tc.want, day45.HonoursDeadlines(tc.client), "%s: inline", tc.name)
		require.NoError(t, tc.client.Close())
	}
}
