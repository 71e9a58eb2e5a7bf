package observability_test

// Step 10 (advanced): observability, in day45/observability.go (see README.md beside this file).

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

const readme = "steps/10-observability/README.md を参照"

const ms = time.Millisecond

// buckets renders a snapshot's buckets as "≤10ms:1 ≤50ms:3", the way the failure messages show them.
func buckets(s testutil.Snapshot) string {
	out := ""
	for i, b := range s.Buckets {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("≤%v:%d", b.UpperBound, b.Count)
	}
	return "[" + out + "]"
}

func TestHistogram_BucketsAreCumulativeAndInclusive(t *testing.T) {
	bounds := []time.Duration{10 * ms, 50 * ms, 100 * ms}
	for _, tc := range []struct {
		name    string
		observe []time.Duration
		want    string // the buckets, as buckets renders them
		count   uint64
		sum     time.Duration
		hint    string
	}{
		{"empty", nil, "[≤10ms:0 ≤50ms:0 ≤100ms:0]", 0, 0,
			"観測が無くてもバケットは上限ごとに 1 つずつあります"},
		{"one fast query", []time.Duration{3 * ms}, "[≤10ms:1 ≤50ms:1 ≤100ms:1]", 1, 3 * ms,
			"バケットは累積です: 3ms のクエリは ≤10ms にも ≤50ms にも ≤100ms にも数えます"},
		{"exactly on a bound", []time.Duration{10 * ms, 50 * ms}, "[≤10ms:1 ≤50ms:2 ≤100ms:2]", 2, 60 * ms,
			"上限はその値を含みます（le = less than or equal）: ちょうど 10ms は ≤10ms のバケットです"},
		{"a herd's slow tail", []time.Duration{2 * ms, 2 * ms, 2 * ms, 80 * ms}, "[≤10ms:3 ≤50ms:3 ≤100ms:4]", 4, 86 * ms,
			"遅い 1 本は ≤100ms にだけ加わり、速い 3 本は全部のバケットに残ります"},
		{"sub-millisecond", []time.Duration{1500 * time.Microsecond, 2500 * time.Microsecond}, "[≤10ms:2 ≤50ms:2 ≤100ms:2]", 2, 4 * ms,
			"1ms 未満の端数のある観測も、ほかと同じく ≤10ms のバケットに入ります"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testutil.NewHistogram(bounds...)
			for _, d := range tc.observe {
				h.Observe(d)
			}
			s := h.Snapshot()
			if !assert.Equal(t, tc.want, buckets(s), "観測 %v のバケットが違います。%s — %s", tc.observe, tc.hint, readme) {
				return // one message per case: the buckets say the most
			}
			assert.Equal(t, tc.count, s.Count, "観測 %v の Count が違います — %s", tc.observe, readme)
			assert.Equal(t, tc.sum, s.Sum, "観測 %v の Sum が違います。Sum は全観測の合計で、ミリ秒に丸めず time.Duration（ナノ秒）のまま足します — %s", tc.observe, readme)
		})
	}
}

func TestHistogram_CountsWhatNoBucketHolds(t *testing.T) {
	h := testutil.NewHistogram(10*ms, 50*ms)
	h.Observe(5 * ms)
	h.Observe(3 * time.Second) // a query that ran into its timeout: slower than every bound
	s := h.Snapshot()
	assert.Equal(t, "[≤10ms:1 ≤50ms:1]", buckets(s), "有限のバケットは ≤10ms と ≤50ms の 2 つで、入るのは 5ms の観測だけです。3s の観測はどちらにも入りません — %s", readme)
	assert.Equal(t, uint64(2), s.Count,
		"Count が %d です。期待は 2: 最後の上限を超えた観測も Count（Prometheus の +Inf バケット）には数えます。"+
			"捨てると、ハードの一番遅いクエリがダッシュボードから消えます — %s", s.Count, readme)
	assert.Equal(t, 3*time.Second+5*ms, s.Sum, "Sum にも最後の上限を超えた観測を足します — %s", readme)
}

func TestHistogram_KeepsItsOwnBounds(t *testing.T) {
	bounds := []time.Duration{10 * ms, 50 * ms}
	h := testutil.NewHistogram(bounds...)
	bounds[0], bounds[1] = time.Second, 2*time.Second // the caller reuses its slice
	h.Observe(20 * ms)
	s := h.Snapshot()
	assert.Equal(t, "[≤10ms:0 ≤50ms:1]", buckets(s),
		"NewHistogram の後で呼び出し側がスライスを書き換えると、上限まで変わりました。slices.Clone で自分の写しを持ってください — %s", readme)
}

func TestHistogram_ConcurrentObservations(t *testing.T) {
	const goroutines, each = 8, 1000
	h := testutil.NewHistogram(testutil.DefaultQueryBuckets()...)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				h.Observe(time.Duration(g*each+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	s := h.Snapshot()
	const n = goroutines * each
	assert.Equal(t, uint64(n), s.Count,
		"%d ゴルーチンが %d 回ずつ Observe して Count が %d です。期待は %d: カウンタは atomic に足してください — %s",
		goroutines, each, s.Count, n, readme)
	assert.Equal(t, time.Duration(n*(n-1)/2)*time.Microsecond, s.Sum, "並行の Observe で Sum が失われました — %s", readme)
	if assert.NotEmpty(t, s.Buckets, "DefaultQueryBuckets の上限ごとにバケットがあるはずです — %s", readme) {
		last := s.Buckets[len(s.Buckets)-1]
		assert.Equal(t, uint64(n), last.Count, "%d 個の観測はどれも 8ms 未満なので、≤%v のバケットにも全部入るはずです — %s", n, last.UpperBound, readme)
	}
}

func TestHistogram_ZeroValueIsReady(t *testing.T) {
	var h testutil.Histogram
	h.Observe(7 * ms)
	s := h.Snapshot()
	assert.Empty(t, s.Buckets, "ゼロ値のヒストグラムには有限のバケットがありません — %s", readme)
	assert.Equal(t, uint64(1), s.Count, "ゼロ値のヒストグラムも Count を数えます（var h Histogram でそのまま使えること） — %s", readme)
	assert.Equal(t, 7*ms, s.Sum, "ゼロ値のヒストグラムも Sum を足します — %s", readme)
}

// The protector's histogram: one observation per database query, on the Config's clock, failures included. The
// Repo moves the fake clock by the query's time, so that one query alone measures exactly that time.
func TestQueryDurations_OneObservationPerQuery(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.QueryBuckets = []time.Duration{25 * ms, 50 * ms, 100 * ms}
	p := env.Protector(t, cfg)
	env.Repo.TakeClockTime(env.Clock, 40*ms)

	const n = 200
	r := testutil.Herd(n, func(int) error { _, err := p.Get(context.Background(), "product:1"); return err })
	require.Zero(t, r.Failed(), "%d 回の Get のうち %d 回が失敗しました（最初のエラー: %v） — %s", n, r.Failed(), r.FirstErr(), readme)
	before := p.QueryDurations()
	queries := uint64(env.Repo.Loads())
	assert.Equal(t, queries, before.Count,
		"%d 人が同時に Get して DB クエリは %d 回、QueryDurations().Count は %d です。観測はクエリ 1 回に 1 回で、呼び出し 1 回に 1 回ではありません — %s",
		n, queries, before.Count, readme)

	// One query at a time from here: each measures exactly the time the Repo gives it.
	_, err := p.Get(context.Background(), "product:2")
	require.NoError(t, err)
	after := p.QueryDurations()
	assert.Equal(t, before.Count+1, after.Count, "40ms のクエリ 1 回で Count は 1 増えるはずです — %s", readme)
	assert.Equal(t, "[≤25ms:+0 ≤50ms:+1 ≤100ms:+1]", growth(before, after), "40ms のクエリ 1 回で増えたバケットが違います — %s", readme)
	assert.Equal(t, 40*ms, after.Sum-before.Sum, "40ms のクエリ 1 回で Sum は 40ms 増えるはずです — %s", readme)

	env.Repo.TakeClockTime(env.Clock, 200*ms)
	env.Repo.Fail(errors.New("db: connection reset"))
	_, err = p.Get(context.Background(), "product:3")
	require.Error(t, err, "DB が失敗したのに Get が成功しました")
	failed := p.QueryDurations()
	assert.Equal(t, after.Count+1, failed.Count, "失敗したクエリも観測します: 障害中の遅さこそ見たい数字です — %s", readme)
	assert.Equal(t, "[≤25ms:+0 ≤50ms:+0 ≤100ms:+0]", growth(after, failed), "200ms で失敗したクエリは、どの有限のバケットにも入りません — %s", readme)
	assert.Equal(t, 200*ms, failed.Sum-after.Sum, "失敗したクエリの 200ms も Sum に入ります — %s", readme)
}

// growth renders how much each bucket grew from a to b, as "[≤25ms:+0 ≤50ms:+1]".
func growth(a, b testutil.Snapshot) string {
	out := ""
	for i, bb := range b.Buckets {
		var was uint64
		if i < len(a.Buckets) {
			was = a.Buckets[i].Count
		}
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("≤%v:+%d", bb.UpperBound, bb.Count-was)
	}
	return "[" + out + "]"
}
