package breaker_test

// Step 04: the circuit breaker in day45/breaker.go (see README.md beside this file).

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/04-breaker/README.md を参照"

var errDB = errors.New("db: too many connections")

func failing() (any, error) { return nil, errDB }
func healthy() (any, error) { return "ok", nil }

func TestCall_OpensAfterThreshold(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(3, 10*time.Second, clock.Now)
	calls := 0
	var errs []error
	for range 10 {
		_, err := cb.Call(func() (any, error) { calls++; return failing() })
		errs = append(errs, err)
	}
	assert.Equal(t, 3, calls, "しきい値 3 のブレーカー経由で 10 回呼び出し、失敗中の DB に %d 回届きました。期待は 3 回 — %s", calls, readme)
	for i, err := range errs[3:] {
		require.ErrorIs(t, err, testutil.ErrCircuitOpen, "3 回連続で失敗した後の %d 回目の呼び出しが %v を返しました。期待は ErrCircuitOpen — %s", i+4, err, readme)
	}
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "3 回連続で失敗した後の State が %v です。期待は open — %s", s, readme)
}

func TestCall_StateMachine(t *testing.T) {
	type step struct {
		advance time.Duration
		fn      func() (any, error)
		want    testutil.CircuitState // checked after every step; the zero value is Closed
	}
	notFound := func() (any, error) { return nil, fmt.Errorf("product:9: %w", testutil.ErrNotFound) }
	cases := []struct {
		name  string
		steps []step
	}{
		{"a success resets the failure count", []step{
			{fn: failing}, {fn: failing}, {fn: healthy, want: testutil.Closed},
			{fn: failing}, {fn: failing, want: testutil.Closed}, {fn: failing, want: testutil.Open},
		}},
		{"ErrNotFound is an answer, not a failure", []step{
			{fn: failing}, {fn: failing}, {fn: notFound, want: testutil.Closed},
			{fn: failing, want: testutil.Closed}, {fn: failing}, {fn: failing, want: testutil.Open},
		}},
		{"open until the timeout, then half-open", []step{
			{fn: failing}, {fn: failing}, {fn: failing, want: testutil.Open},
			{advance: 9 * time.Second, want: testutil.Open},
			{advance: time.Second, want: testutil.HalfOpen},
		}},
		{"a good probe closes it", []step{
			{fn: failing}, {fn: failing}, {fn: failing, want: testutil.Open},
			{advance: 10 * time.Second, fn: healthy, want: testutil.Closed},
		}},
		{"a failed probe re-opens it for another timeout", []step{
			{fn: failing}, {fn: failing}, {fn: failing, want: testutil.Open},
			{advance: 10 * time.Second, fn: failing, want: testutil.Open},
			{advance: 9 * time.Second, want: testutil.Open},
			{advance: time.Second, want: testutil.HalfOpen},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := testutil.NewClock(time.Time{})
			cb := testutil.NewCircuitBreaker(3, 10*time.Second, clock.Now)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				if s.fn != nil {
					_, _ = cb.Call(s.fn)
				}
				got := cb.State()
				require.Equal(t, s.want, got, "このシナリオの %d 番目の操作の後、State が %v です。期待は %v — %s", i+1, got, s.want, readme)
			}
		})
	}
}

func TestCall_HalfOpenLetsOneProbeThrough(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(1, time.Second, clock.Now)
	_, _ = cb.Call(failing)
	clock.Advance(time.Second)

	probing := make(chan struct{})
	finish := make(chan struct{})
	probe := make(chan error, 1)
	go func() {
		_, err := cb.Call(func() (any, error) { close(probing); <-finish; return healthy() })
		probe <- err
	}()
	select {
	case <-probing:
	case <-time.After(2 * time.Second):
		close(finish)
		<-probe
		require.Fail(t, "2s 以内に half-open のプローブが通らない", "ブレーカーが開いて %v 経っても、プローブが 1 本も通りませんでした。open のブレーカーは timeout の後に half-open になります — %s", time.Second, readme)
	}
	var extra atomic.Int64
	const n = 100
	herd := make(chan testutil.HerdResult, 1)
	go func() {
		herd <- testutil.Herd(n, func(int) error {
			_, err := cb.Call(func() (any, error) { extra.Add(1); return healthy() })
			return err
		})
	}()
	var r testutil.HerdResult
	select {
	case r = <-herd:
	case <-time.After(2 * time.Second):
		close(finish)
		<-probe
		<-herd
		require.Fail(t, "プローブ中に呼び出しがブロックされた", "プローブの開始から 2s 経っても、%d 本の呼び出しがまだブロックされていました。ブレーカーはすぐに ErrCircuitOpen を返す必要があります（fn の実行中は mutex を握らないこと） — %s", n, readme)
	}
	close(finish)
	assert.NoError(t, <-probe, "プローブ")
	reached := extra.Load()
	assert.Zero(t, reached, "half-open のプローブの実行中に、並行呼び出し %d 本のうち %d 本も DB に届きました。期待は 0 本（プローブ以外はすべて ErrCircuitOpen） — %s",
		n, reached, readme)
	got := r.Count(testutil.ErrCircuitOpen)
	assert.Equal(t, n, got, "プローブ中の呼び出し %d 本のうち、ErrCircuitOpen を受け取ったのは %d 本です。期待はすべて — %s", n, got, readme)
	s := cb.State()
	assert.Equal(t, testutil.Closed, s, "プローブ成功後の State が %v です。期待は closed — %s", s, readme)
}

func TestGet_BreakerShieldsAFailingDB(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.BreakerThreshold = 5
	cfg.BreakerTimeout = 10 * time.Second
	p := env.Protector(t, cfg)
	env.Repo.Fail(errDB)
	const n = 50
	for i := range n {
		_, err := p.Get(context.Background(), fmt.Sprint("product:", i))
		require.Error(t, err, "失敗中の DB に対して Get が成功しました — %s", readme)
		require.True(t, errors.Is(err, errDB) || errors.Is(err, testutil.ErrCircuitOpen),
			"Get が %v を返しました。期待は DB のエラー（%%w で包む）か ErrCircuitOpen — %s", err, readme)
	}
	got := env.Repo.Loads()
	assert.Equal(t, int64(5), got, "%d 回の Get で失敗中の DB に %d 回クエリしました。期待は 5 回（しきい値）で、その後はすぐに失敗を返すこと — %s", n, got, readme)
	env.Repo.Fail(nil)
	env.Clock.Advance(10 * time.Second)
	_, err := p.Get(context.Background(), "after")
	assert.NoError(t, err, "DB が回復して timeout が過ぎた後の Get が失敗しました。期待はプローブの成功 — %s", readme)
}

func TestCall_OutcomeOfAnOlderGenerationIsIgnored(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(1, 10*time.Second, clock.Now)
	finishSlow := openDuringASlowCall(t, cb)
	finishSlow()
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "ブレーカーが開く前に始まった遅い成功が、ブレーカーを閉じてしまいました（State = %v。期待は open）。呼び出しが始まった世代を覚えておき、状態が変わっていたらその結果は捨てること — %s", s, readme)
}

func TestCall_PanicCountsAsAFailure(t *testing.T) {
	cb := testutil.NewCircuitBreaker(1, time.Minute, testutil.NewClock(time.Time{}).Now)
	func() {
		defer func() {
			r := recover()
			assert.Equal(t, "db driver bug", r, "recover した値が %v です。期待は panic がそのまま呼び出し元へ伝わること — %s", r, readme)
		}()
		_, _ = cb.Call(func() (any, error) { panic("db driver bug") })
	}()
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "しきい値 1 で panic した呼び出しの後、State が %v です。期待は open。panic は失敗です（defer した関数で失敗を記録し、panic はそのまま呼び出し元へ伝えること） — %s", s, readme)
	_, err := cb.Call(healthy)
	assert.ErrorIs(t, err, testutil.ErrCircuitOpen, "panic の後の Call が %v を返しました。期待は ErrCircuitOpen — %s", err, readme)
}

// TestGet_FrozenRedisIsSkipped: the same breaker stands in front of Redis (protector.go creates a second one, the
// cache breaker). With Redis frozen, each Redis call costs its budget, CacheTimeout; once CacheBreakerThreshold calls
// in a row have failed, the protector must stop calling Redis and answer from the DB at once.
func TestGet_FrozenRedisIsSkipped(t *testing.T) {
	env := testutil.NewEnv(t)
	proxy := testutil.StartProxy(t, env.Redis.Addr)
	cfg := env.Config()
	cfg.CacheTimeout = 100 * time.Millisecond // each call to the frozen Redis costs this much
	p, err := testutil.NewProtector(proxy.Client(t, 0), env.Repo, cfg)
	require.NoError(t, err, "NewProtector")
	t.Cleanup(func() { _ = p.Close() })
	t.Cleanup(func() { proxy.Heal(t) }) // runs first: so that Close need not wait out the frozen calls' timeouts
	proxy.Blackhole()
	before := proxy.Sent()
	const n = 10
	for i := range n {
		d, err := p.Get(context.Background(), fmt.Sprint("product:", i))
		require.NoError(t, err, "Redis が固まっていても、Get は DB から答えを返す必要があります — %s", readme)
		require.Equal(t, fmt.Sprint("value:product:", i), d.Value)
	}
	sent := proxy.Sent() - before
	limit := int64(2 * cfg.CacheBreakerThreshold)
	assert.LessOrEqual(t, sent, limit,
		"Redis が固まった状態で %d 回 Get し、Redis にコマンドを %d 個送りました。どれも %v 無駄に待っています。期待は最大 %d 個。%d 回（CacheBreakerThreshold）連続で失敗したらキャッシュのブレーカーが開き、protector は Redis を飛ばす必要があります — %s",
		n, sent, cfg.CacheTimeout, limit, cfg.CacheBreakerThreshold, readme)
}

// TestCall_FailedProbeLetsTheNextProbeThrough: a failed probe re-opens the breaker, and after the next timeout the
// next probe goes through. A probe flag that is not cleared when the probe fails keeps the breaker shut for good.
func TestCall_FailedProbeLetsTheNextProbeThrough(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(1, 10*time.Second, clock.Now)
	_, _ = cb.Call(failing)
	_, err := cb.Call(healthy)
	require.ErrorIs(t, err, testutil.ErrCircuitOpen, "しきい値 1 で 1 回失敗した直後の Call が %v を返しました。期待は ErrCircuitOpen — %s", err, readme)
	clock.Advance(10 * time.Second)
	probes := 0
	_, _ = cb.Call(func() (any, error) { probes++; return failing() })
	require.Equal(t, 1, probes, "timeout の後の 1 本目のプローブが通りませんでした — %s", readme)
	clock.Advance(10 * time.Second)
	_, err = cb.Call(func() (any, error) { probes++; return healthy() })
	s := cb.State()
	assert.Equal(t, 2, probes,
		"1 本目のプローブが失敗し、もう一度 timeout が過ぎた後の 2 本目のプローブが通りませんでした（Call = %v、State = %v）。プローブ中の印は、プローブが成功しても失敗しても外すこと。外さないとブレーカーは二度と閉じません — %s",
		err, s, readme)
	assert.Equal(t, testutil.Closed, s, "2 本目のプローブが成功した後の State が %v です。期待は closed — %s", s, readme)
}

// TestCall_SlowOutcomeDoesNotMoveAHalfOpenBreaker: a call that began while the breaker was closed ends after it has
// opened and turned half-open. Its outcome belongs to an older generation: it must neither close the breaker nor
// take the probe's place.
func TestCall_SlowOutcomeDoesNotMoveAHalfOpenBreaker(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(1, 10*time.Second, clock.Now)
	finishSlow := openDuringASlowCall(t, cb)
	clock.Advance(10 * time.Second)
	before := cb.State()
	finishSlow()
	after := cb.State()
	assert.True(t, before == testutil.HalfOpen && after == testutil.HalfOpen,
		"ブレーカーが開く前に始まった遅い成功が、half-open になってから終わりました。その直前の State は %v、直後は %v です。期待はどちらも half-open（古い結果は捨てて、次のプローブを待つ）。呼び出しが始まった世代を覚えておき、状態が変わっていたらその結果は捨てること — %s",
		before, after, readme)
}

// openDuringASlowCall starts a successful call that stays inside fn, then opens the breaker (threshold 1) with a
// failing call, and returns what lets the slow call finish. A breaker that holds its mutex while fn runs blocks the
// second call: the test fails after 2s instead of hanging.
func openDuringASlowCall(t *testing.T, cb *testutil.CircuitBreaker) (finishSlow func()) {
	t.Helper()
	started, finish, slow := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := cb.Call(func() (any, error) { close(started); <-finish; return healthy() })
		slow <- err
	}()
	<-started
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		_, _ = cb.Call(failing) // opens the breaker while the slow call is still running
	}()
	select {
	case <-opened:
	case <-time.After(2 * time.Second):
		close(finish)
		<-slow
		<-opened
		require.Fail(t, "実行中の呼び出しに Call がブロックされた", "1 本目の Call の開始から 2s 経っても、2 本目の Call がまだブロックされていました。fn の実行中は mutex を握らないこと — %s", readme)
	}
	return func() {
		close(finish)
		<-slow
	}
}
