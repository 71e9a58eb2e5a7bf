package metrics_test

// Step 06: metrics in day45/metrics.go (see README.md beside this file).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/06-metrics/README.md を参照"

func newProtector(t *testing.T, env *testutil.Env, mutate func(*testutil.Config)) *testutil.Protector {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	if mutate != nil {
		mutate(&cfg)
	}
	return env.Protector(t, cfg)
}

// invariantErrors lists the invariants of ProtectionMetrics that m breaks.
func invariantErrors(m testutil.Metrics) []string {
	var errs []string
	if m.TotalRequests != m.CacheHits+m.CacheMisses {
		errs = append(errs, fmt.Sprintf("TotalRequests %d != CacheHits %d + CacheMisses %d", m.TotalRequests, m.CacheHits, m.CacheMisses))
	}
	if m.SingleFlightHits > m.CacheMisses {
		errs = append(errs, fmt.Sprintf("SingleFlightHits %d > CacheMisses %d", m.SingleFlightHits, m.CacheMisses))
	}
	if m.StaleReturns > m.CacheMisses {
		errs = append(errs, fmt.Sprintf("StaleReturns %d > CacheMisses %d", m.StaleReturns, m.CacheMisses))
	}
	if m.DBErrors > m.DBQueries {
		errs = append(errs, fmt.Sprintf("DBErrors %d > DBQueries %d", m.DBErrors, m.DBQueries))
	}
	return errs
}

func TestMetrics_HerdShowsTheDefenses(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, nil)
	env.Repo.Hold()
	defer env.Repo.Release()
	const n = 1000
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error { _, err := p.Get(context.Background(), "product:1"); return err })
	}()
	// The load is held until every caller waits for it: the worst case for a herd.
	testutil.WaitUntil(func() bool { return testutil.Parked(testutil.WaitingCaller) == n }, 30*time.Second)
	midFlight := p.GetMetrics()
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d 回の Get が失敗しました。最初のエラー: %v", r.Failed(), r.FirstErr())
	assert.Equal(t, int64(n), midFlight.CacheMisses,
		"止めてある 1 本の読み込みを %d 個の呼び出し元が待っている間、CacheMisses = %d でした。期待は %d。呼び出し元が待つ前にミスを数え、サンダリングハードが起きている最中に見えるようにすること — %s",
		n, midFlight.CacheMisses, n, readme)
	m := p.GetMetrics()
	want := testutil.Metrics{TotalRequests: n, CacheMisses: n, SingleFlightHits: n - 1, LockAcquisitions: 1, DBQueries: 1}
	assert.Equal(t, want, m, "1 本の読み込みを共有した %d 回の並行 Get の後（SingleFlightHits は、自分で実行していない読み込みで答えを得た %d 個の呼び出し元を数えます）:\n実際 %+v\n期待 %+v\n— %s",
		n, n-1, m, want, readme)
}

func TestMetrics_CountEachEvent(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *testutil.Config) { c.BreakerThreshold = 1; c.TTL = time.Minute; c.StaleTTL = time.Minute })
	ctx := context.Background()
	get := func(key string) {
		t.Helper()
		_, err := p.Get(ctx, key)
		require.NoError(t, err, "Get(%q)", key)
	}
	get("a")                            // miss: lock, DB query
	env.WaitWriteBack(t, "a", "lock:a") // Get may answer before its store lands: without this, the next Get can miss
	get("a")                            // hit
	require.NoError(t, env.Redis.Mini.Set("b", "not an envelope"))
	get("b")                                      // undecodable entry: a cache error and a miss; lock, DB query
	env.WaitWriteBack(t, "b", "lock:b")           // let the store land before time moves
	env.Clock.Advance(61 * time.Second)           // a and b are now stale
	_, err := p.GetStaleWhileRevalidate(ctx, "a") // stale return, background refresh: lock, DB query
	require.NoError(t, err, "GetStaleWhileRevalidate")
	testutil.Eventually(t, func() bool { return env.Repo.Completed() == 3 }, 2*time.Second, "バックグラウンド更新が終わりませんでした")
	env.Repo.Fail(errors.New("db down"))
	get("b") // miss: lock, DB query fails (a DB error; threshold 1 trips the breaker), stale-if-error
	want := testutil.Metrics{
		TotalRequests: 5, CacheHits: 1, CacheMisses: 4, LockAcquisitions: 4, CircuitBreakerTrips: 1,
		StaleReturns: 2, BackgroundRefresh: 1, DBQueries: 4, DBErrors: 1, CacheErrors: 1,
	}
	got := p.GetMetrics()
	assert.Equal(t, want, got, "ミス、ヒット、壊れたエントリ、更新付きの古い値の読み込み、stale-if-error の後:\n実際 %+v\n期待 %+v\n— %s", got, want, readme)
}

func TestMetrics_InvariantsHoldWhileCallsRun(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *testutil.Config) { c.BreakerThreshold = 1000 })
	env.Repo.Missing("ghost")
	env.Repo.SetLatency(time.Millisecond)
	var broken []string
	var mu sync.Mutex
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
			}
			if errs := invariantErrors(p.GetMetrics()); len(errs) > 0 {
				mu.Lock()
				broken = append(broken, errs...)
				mu.Unlock()
			}
		}
	}()
	const n = 2000
	testutil.Herd(n, func(i int) error {
		switch i % 4 {
		case 0:
			_, err := p.Get(context.Background(), "ghost")
			return err
		case 1:
			_, err := p.GetStaleWhileRevalidate(context.Background(), fmt.Sprint("k", i%9))
			return err
		case 2:
			_, err := p.Get(context.Background(), "") // rejected: not a request
			return err
		}
		_, err := p.Get(context.Background(), fmt.Sprint("k", i%9))
		return err
	})
	close(stop)
	wg.Wait()
	assert.Zero(t, len(broken), "呼び出しの実行中に取ったスナップショットが不変条件を破りました（%d 回）。最初の 1 つ: %s — %s",
		len(broken), firstOf(broken), readme)
	m := p.GetMetrics()
	want := int64(n - n/4)
	assert.Equal(t, want, m.TotalRequests, "TotalRequests = %d です。期待は %d（受け付けた呼び出しの数。拒否した %d 本はリクエストに数えない） — %s", m.TotalRequests, want, n/4, readme)
	assert.Equal(t, env.Repo.Loads(), m.DBQueries, "DBQueries = %d ですが、DB が数えた Load の呼び出しは %d 回です — %s", m.DBQueries, env.Repo.Loads(), readme)
	assert.Zero(t, m.DBErrors, "DBErrors = %d です。ErrNotFound は答えであり、DB のエラーではありません — %s", m.DBErrors, readme)
	errs := invariantErrors(m)
	assert.Empty(t, errs, "最後のスナップショットが不変条件を破っています: %v — %s", errs, readme)
}

func TestMetrics_CacheBreakerIsCounted(t *testing.T) {
	env := testutil.NewEnv(t)
	proxy := testutil.StartProxy(t, env.Redis.Addr)
	cfg := env.Config()
	cfg.JitterPercent, cfg.CacheTimeout = 0, 100*time.Millisecond
	p, err := testutil.NewProtector(proxy.Client(t, 0), env.Repo, cfg)
	require.NoError(t, err, "NewProtector")
	t.Cleanup(func() { _ = p.Close() })
	t.Cleanup(func() { proxy.Heal(t) }) // runs first: Close need not wait out the frozen calls' timeouts
	proxy.Blackhole()
	const n = 10
	for i := range n {
		_, err := p.Get(context.Background(), fmt.Sprint("k", i))
		require.NoError(t, err, "Redis が固まった状態の Get")
	}
	// A write-back in flight may have opened the breaker and not yet counted its failure: Close waits for it (after
	// Redis heals, or it would wait out the frozen calls).
	proxy.Heal(t)
	require.NoError(t, p.Close(), "Close")
	m := p.GetMetrics()
	// The breaker opens after CacheBreakerThreshold failures in a row; a write-back in flight at that moment fails too.
	lo, hi := int64(cfg.CacheBreakerThreshold), int64(2*cfg.CacheBreakerThreshold)
	assert.True(t, lo <= m.CacheErrors && m.CacheErrors <= hi,
		"Redis が固まった状態で %d 回 Get した後、CacheErrors = %d です。期待は %d 〜 %d。キャッシュのブレーカーが開くまでに、予算（CacheTimeout）を使い切るまで待った呼び出しの数です — %s",
		n, m.CacheErrors, lo, hi, readme)
	assert.Equal(t, int64(1), m.CacheBreakerTrips, "CacheBreakerTrips = %d です。期待は 1。p.cacheBreaker.tripCount() から読むこと — %s", m.CacheBreakerTrips, readme)
	assert.Positive(t, m.CacheSkips, "CacheSkips = 0 です。キャッシュのブレーカーが open の間に飛ばした Redis の呼び出しを数えること（cacheSkip） — %s", readme)
}

// firstOf returns the first of what a check collected, or "" when it collected nothing.
func firstOf(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
