package xfetch_test

// Step 07 (advanced): early recomputation (XFetch) in day45/xfetch.go (see README.md beside this file).

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"day45-thundering-herd/testutil"
)

const readme = "steps/07-xfetch/README.md を参照"

const ttl = 10 * time.Second

// xfetchConfig is the Env's Config with XFetch on (beta), no jitter, a 10s TTL and a seeded random source.
func xfetchConfig(env *testutil.Env, beta float64, seed uint64) testutil.Config {
	cfg := env.Config()
	cfg.TTL, cfg.StaleTTL, cfg.JitterPercent = ttl, time.Minute, 0
	cfg.LockPollInterval = time.Millisecond
	cfg.XFetchBeta = beta
	cfg.Rand = testutil.SeededRand(seed)
	return cfg
}

// warm opens each protector's Redis connection, so that the goroutines serving it exist before a test takes its
// goleak baseline; it returns that baseline.
func warm(t *testing.T, ps ...*testutil.Protector) goleak.Option {
	t.Helper()
	for _, p := range ps {
		require.NoError(t, p.Set(t.Context(), "warm", &testutil.Data{Key: "warm", Value: "w"}, time.Hour), "Set")
	}
	return goleak.IgnoreCurrent()
}

// readHot is one reader of TestXFetch_HotKeyNeverMisses.
func readHot(p *testutil.Protector, got chan<- error) {
	_, err := p.Get(context.Background(), "hot")
	got <- err
}

// read runs one Get of "hot" while the database is held and reports whether the reader had to wait for it: a
// reader waiting for the held database (inside it, or for a shared load) missed.
func read(t *testing.T, env *testutil.Env, p *testutil.Protector) (missed bool) {
	t.Helper()
	env.Repo.Hold()
	got := make(chan error, 1)
	go readHot(p, got)
	testutil.WaitUntil(func() bool { return len(got) == 1 || testutil.WaitsForTheDB("xfetch_test.readHot(") == 1 }, 2*time.Second)
	missed = len(got) == 0
	env.Repo.Release()
	require.NoError(t, <-got, "Get")
	return missed
}

func TestXFetch_HotKeyNeverMisses(t *testing.T) {
	env := testutil.NewEnv(t)
	p := env.Protector(t, xfetchConfig(env, 1, 1))
	base := warm(t, p)
	env.Repo.TakeClockTime(env.Clock, time.Second) // every load takes 1s of the test's time
	_, err := p.Get(t.Context(), "hot")            // the first load: the one miss allowed
	require.NoError(t, err, "Get")
	testutil.Quiet(t, base, "最初の読み込みの書き戻し")
	// A reader every 100ms for 30s: the value (fresh for 10s) expires three times over.
	const reads = 300
	misses := 0
	for range reads {
		env.Clock.Advance(100 * time.Millisecond)
		if read(t, env, p) {
			misses++
		}
		testutil.Quiet(t, base, "裏の更新") // a refresh this read started lands before time moves on
	}
	t.Logf("%d reads over %v: %d waited for the database, %d refreshes", reads, reads*100*time.Millisecond, misses, env.Repo.Loads()-1)
	assert.Zero(t, misses,
		"100ms ごとに %d 回読み続けたところ、%d 回は読み手が DB を待ちました（DB への読み込みは最初の 1 回のほかに %d 回）。期待は 0 回：期限が近づいたヒットが、確率的に裏で値を読み直すこと — %s",
		reads, misses, env.Repo.Loads()-1, readme)
	assert.Positive(t, env.Repo.Loads()-1, "期限をまたいで読み続けても、DB への読み直しが 1 回もありませんでした — %s", readme)
	m := p.GetMetrics()
	assert.Equal(t, env.Repo.Loads()-1, m.BackgroundRefresh, "BackgroundRefresh = %d、最初の後の DB への読み込み = %d です。早期の読み直しも裏の更新として数えること — %s",
		m.BackgroundRefresh, env.Repo.Loads()-1, readme)
}

func TestXFetch_OneRefreshAcrossProcesses(t *testing.T) {
	env := testutil.NewEnv(t)
	const procs, perProc = 4, 50
	ps := make([]*testutil.Protector, procs)
	for i := range ps {
		// β = 10 with a 1s load: 1ms before expiry, a hit draws a refresh with a chance of 99.99%.
		ps[i] = env.Protector(t, xfetchConfig(env, 10, uint64(i+1)))
	}
	base := warm(t, ps...)
	env.Repo.TakeClockTime(env.Clock, time.Second)
	_, err := ps[0].Get(t.Context(), "hot")
	require.NoError(t, err, "Get")
	testutil.Quiet(t, base, "最初の読み込みの書き戻し")
	env.Repo.TakeClockTime(nil, 0)
	env.Clock.Advance(ttl - time.Millisecond) // 1ms before the value expires

	env.Repo.Hold() // the refresh cannot finish while the herd reads
	r := testutil.Herd(procs*perProc, func(i int) error {
		d, err := ps[i%procs].Get(context.Background(), "hot")
		if err == nil && d.Value != "value:hot" {
			err = fmt.Errorf("got %q", d.Value)
		}
		return err
	})
	testutil.WaitUntil(func() bool { return env.Repo.Loads() > 1 }, 200*time.Millisecond) // the refresh, if any, starts held
	env.Repo.Release()
	testutil.Quiet(t, base, "裏の更新")
	require.Zero(t, r.Failed(), "期限の直前に %d プロセスから読んだ %d 本のうち %d 本が失敗しました（最初のエラー: %v）。期待はすべてキャッシュの値がすぐ返ること — %s",
		procs, procs*perProc, r.Failed(), r.FirstErr(), readme)
	refreshes := env.Repo.Loads() - 1
	require.Equal(t, int64(1), refreshes,
		"期限の 1ms 前に %d プロセス × %d 本の読み込みがヒットし、DB への早期の読み直しが %d 回始まりました。期待は全プロセスで 1 回：プロセス内では refreshes で 1 本、プロセス間ではロックで 1 本にし、ロックを取れたら値がもう新しくないか読み直すこと — %s",
		procs, perProc, refreshes, readme)
}

// TestXFetch_RefreshInstantsFollowTheDistribution: a hit at gap g before expiry refreshes with the chance
// exp(−g/(Δ·β)). 400 keys, each loaded in 10ms (Δ), are read once each at gaps from 10ms to 4s with Δ·β = 1s,
// and the refreshes per band of gaps must match the paper's law within four standard deviations. The random
// source is seeded: the test draws the same numbers at every run. With β = 0 no key refreshes early.
func TestXFetch_RefreshInstantsFollowTheDistribution(t *testing.T) {
	const keys, bands = 400, 4
	const delta = 10 * time.Millisecond
	env := testutil.NewEnv(t)
	p := env.Protector(t, xfetchConfig(env, 100, 7)) // Δ·β = 1s
	off := env.Protector(t, xfetchConfig(env, 0, 7))
	base := warm(t, p, off)
	env.Repo.TakeClockTime(env.Clock, delta)
	for i := range keys { // key i is fresh until (i+1)·10ms + TTL after start: each load moves the clock 10ms
		_, err := p.Get(t.Context(), fmt.Sprint("k", i))
		require.NoError(t, err, "Get")
	}
	testutil.Quiet(t, base, "書き戻し")
	env.Repo.TakeClockTime(nil, 0)
	env.Clock.Advance(ttl - keys*delta) // now key i is (i+1)·10ms from expiry

	for i := range keys {
		_, err := off.Get(t.Context(), fmt.Sprint("k", i))
		require.NoError(t, err, "Get")
	}
	testutil.Quiet(t, base, "β = 0 の読み込み")
	require.Equal(t, int64(keys), env.Repo.Loads(), "XFetchBeta = 0 なのに、期限前の読み込みで DB への読み直しが %d 回始まりました。期待は 0 回（β = 0 は無効） — %s",
		env.Repo.Loads()-keys, readme)

	for i := range keys {
		_, err := p.Get(t.Context(), fmt.Sprint("k", i))
		require.NoError(t, err, "Get")
	}
	testutil.Quiet(t, base, "裏の更新")
	for b := range bands {
		var got int64
		var want, variance float64
		for i := b * keys / bands; i < (b+1)*keys/bands; i++ {
			got += env.Repo.LoadsOf(fmt.Sprint("k", i)) - 1
			prob := math.Exp(-float64(i+1) * float64(delta) / float64(time.Second))
			want, variance = want+prob, variance+prob*(1-prob)
		}
		lo, hi := want-4*math.Sqrt(variance)-1, want+4*math.Sqrt(variance)+1
		t.Logf("%v-%v before expiry: %d of %d keys refreshed early (law: %.1f)",
			time.Duration(b*keys/bands+1)*delta, time.Duration((b+1)*keys/bands)*delta, got, keys/bands, want)
		assert.True(t, float64(got) >= lo && float64(got) <= hi,
			"期限の %v〜%v 前に 1 回ずつ読んだ %d 個のキーのうち、早期に読み直されたのは %d 個でした。期待は約 %.0f 個（%.0f〜%.0f）：確率 exp(−残り時間/(Δ·β)) で読み直すこと — %s",
			time.Duration(b*keys/bands+1)*delta, time.Duration((b+1)*keys/bands)*delta, keys/bands, got, want, lo, hi, readme)
	}
}
