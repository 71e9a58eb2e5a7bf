package day45_test

// The capstone: the four tests of the lesson's expected output. They pass once all six steps are done; run them with
// go test -v ./day45/ and compare with "期待される挙動" in README.md.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.VerifyNone(m) }

const finish = "先にすべてのステップを終えてください。day45/README.md を参照"

func capstoneProtector(t *testing.T, env *testutil.Env, mutate func(*testutil.Config)) *testutil.Protector {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	if mutate != nil {
		mutate(&cfg)
	}
	return env.Protector(t, cfg)
}

func TestThunderingHerdProtector_SingleFlight(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, nil)
	env.Repo.Hold()
	defer env.Repo.Release()
	const n = 1000
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error { _, err := p.Get(context.Background(), "product:1"); return err })
	}()
	// Hold the load until every caller waits for it: the worst case for a herd.
	joined := testutil.WaitUntil(func() bool { return testutil.Parked(testutil.WaitingCaller) == n }, 30*time.Second)
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d 件のリクエストのうち %d 件が失敗しました。最初のエラー: %v", n, r.Failed(), r.FirstErr())
	queries := env.Repo.Loads()
	require.Equal(t, int64(1), queries, "%d 件の並行リクエストで、DB へのクエリが %d 回発生しました。期待は 1 回 — %s", n, queries, finish)
	t.Logf("%d concurrent requests resulted in %d DB query", n, queries)
	m := p.GetMetrics()
	require.True(t, joined, "メトリクス %+v。期待は %d 回のミスが 1 回の DB クエリを共有すること — %s", m, n, finish)
	require.Equal(t, int64(1), m.DBQueries, "メトリクス %+v。期待は %d 回のミスが 1 回の DB クエリを共有すること — %s", m, n, finish)
	require.Equal(t, int64(n), m.CacheMisses, "メトリクス %+v。期待は %d 回のミスが 1 回の DB クエリを共有すること — %s", m, n, finish)
	t.Log("Single flight pattern prevented thundering herd")
}

func TestThunderingHerdProtector_DistributedLock(t *testing.T) {
	env := testutil.NewEnv(t)
	const procs, perProc = 4, 50
	ps := make([]*testutil.Protector, procs)
	for i := range ps {
		ps[i] = capstoneProtector(t, env, nil) // its own Redis client: a separate process
	}
	env.Repo.Hold()
	defer env.Repo.Release()
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(procs*perProc, func(i int) error {
			_, err := ps[i%procs].Get(context.Background(), "product:1")
			return err
		})
	}()
	// Hold the one load until every other process waits on its lock.
	waiting := func() int64 {
		var waits int64
		for _, p := range ps {
			waits += p.GetMetrics().LockWaits
		}
		return waits
	}
	// A second load means the lock did not hold the others back: stop waiting, the count below fails.
	testutil.WaitUntil(func() bool { return env.Repo.Loads() > 1 || waiting() == procs-1 }, 2*time.Second)
	env.Repo.Release()
	r := <-res
	require.Zero(t, r.Failed(), "%d 件のリクエストが失敗しました。最初のエラー: %v", r.Failed(), r.FirstErr())
	queries := env.Repo.Loads()
	require.Equal(t, int64(1), queries, "%d プロセス × %d リクエストで、DB へのクエリが %d 回発生しました。期待は 1 回 — %s", procs, perProc, queries, finish)
	var locks, waits int64
	for _, p := range ps {
		m := p.GetMetrics()
		locks, waits = locks+m.LockAcquisitions, waits+m.LockWaits
	}
	require.GreaterOrEqual(t, locks, int64(1),
		"%d 個のプロセスがロックを %d 回取り、%d 回待ちました。期待はプロセス同士が協調すること — %s", procs, locks, waits, finish)
	require.GreaterOrEqual(t, waits, int64(1),
		"%d 個のプロセスがロックを %d 回取り、%d 回待ちました。期待はプロセス同士が協調すること — %s", procs, locks, waits, finish)
	t.Log("Multiple processes coordinated via distributed lock")
	t.Log("Only one process loaded data from DB")
}

func TestThunderingHerdProtector_CircuitBreaker(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, func(c *testutil.Config) { c.BreakerThreshold = 5 })
	env.Repo.Fail(errors.New("db: too many connections"))
	const n = 100
	for i := range n {
		_, _ = p.Get(context.Background(), fmt.Sprint("product:", i))
	}
	m := p.GetMetrics()
	require.Equal(t, int64(1), m.CircuitBreakerTrips,
		"失敗する読み込み %d 回の後、CircuitBreakerTrips = %d です。期待は 1 — %s", n, m.CircuitBreakerTrips, finish)
	t.Log("Circuit breaker activated after threshold failures")
	got := env.Repo.Loads()
	require.Equal(t, int64(5), got, "失敗中の DB への %d 件のリクエストで、クエリが %d 回発生しました。期待は 5 回（しきい値） — %s", n, got, finish)
	t.Log("DB protected from excessive load")
}

func TestThunderingHerdProtector_StaleWhileRevalidate(t *testing.T) {
	env := testutil.NewEnv(t)
	p := capstoneProtector(t, env, func(c *testutil.Config) { c.TTL, c.StaleTTL = time.Minute, time.Minute })
	require.NoError(t, p.Set(context.Background(), "product:1", &testutil.Data{Key: "product:1", Value: "old"}, time.Minute))
	env.Clock.Advance(61 * time.Second)
	env.Repo.Hold()
	defer env.Repo.Release()
	got := make(chan *testutil.Data, 1)
	go readStale(p, got)
	// A caller parked in the held database cannot answer: fail then, or after 2s.
	answered := testutil.WaitUntil(func() bool { return len(got) == 1 || testutil.WaitsForTheDB("readStale(") == 1 }, 2*time.Second)
	if !answered || len(got) == 0 {
		env.Repo.Release()
		<-got
		require.Fail(t, fmt.Sprintf("GetStaleWhileRevalidate が DB を待ちました。期待は古い値がすぐに返ること — %s", finish))
	}
	d := <-got
	require.NotNil(t, d, "GetStaleWhileRevalidate = %+v です。期待は古い値 — %s", d, finish)
	require.Equal(t, "old", d.Value, "GetStaleWhileRevalidate = %+v です。期待は古い値 — %s", d, finish)
	t.Log("Stale data returned immediately")
	env.Repo.Release()
	require.NoError(t, p.Close())
	m := p.GetMetrics()
	require.Equal(t, int64(1), m.BackgroundRefresh,
		"BackgroundRefresh = %d、完了した DB の読み込み = %d です。期待はどちらも 1 — %s", m.BackgroundRefresh, env.Repo.Completed(), finish)
	require.Equal(t, int64(1), env.Repo.Completed(),
		"BackgroundRefresh = %d、完了した DB の読み込み = %d です。期待はどちらも 1 — %s", m.BackgroundRefresh, env.Repo.Completed(), finish)
	t.Log("Background refresh completed")
}

// readStale is the caller of TestThunderingHerdProtector_StaleWhileRevalidate.
func readStale(p *testutil.Protector, got chan<- *testutil.Data) {
	d, _ := p.GetStaleWhileRevalidate(context.Background(), "product:1")
	got <- d
}
