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

const readme = "see steps/04-breaker/README.md"

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
	assert.Equal(t, 3, calls, "10 calls through a breaker with threshold 3 reached the failing DB %d times; want 3 — %s", calls, readme)
	for i, err := range errs[3:] {
		require.ErrorIs(t, err, testutil.ErrCircuitOpen, "call %d, after 3 consecutive failures, returned %v; want ErrCircuitOpen — %s", i+4, err, readme)
	}
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "State = %v after 3 consecutive failures; want open — %s", s, readme)
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
				require.Equal(t, s.want, got, "after call %d of this scenario: State = %v; want %v — %s", i+1, got, s.want, readme)
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
		require.Fail(t, "no half-open probe within 2s", "no probe went through %v after the breaker opened: an open breaker turns half-open after its timeout — %s", time.Second, readme)
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
		require.Fail(t, "calls blocked during the probe", "%d calls were still blocked 2s into the probe: the breaker must answer ErrCircuitOpen at once (do not hold the mutex while fn runs) — %s", n, readme)
	}
	close(finish)
	assert.NoError(t, <-probe, "the probe")
	reached := extra.Load()
	assert.Zero(t, reached, "while the half-open probe ran, %d of %d concurrent calls also reached the DB; want 0 (ErrCircuitOpen for all but the probe) — %s",
		reached, n, readme)
	got := r.Count(testutil.ErrCircuitOpen)
	assert.Equal(t, n, got, "%d of %d calls during the probe got ErrCircuitOpen; want all — %s", got, n, readme)
	s := cb.State()
	assert.Equal(t, testutil.Closed, s, "State after a good probe = %v; want closed — %s", s, readme)
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
		require.Error(t, err, "Get succeeded against a failing DB — %s", readme)
		require.True(t, errors.Is(err, errDB) || errors.Is(err, testutil.ErrCircuitOpen),
			"Get = %v; want the DB's error (wrapped with %%w) or ErrCircuitOpen — %s", err, readme)
	}
	got := env.Repo.Loads()
	assert.Equal(t, int64(5), got, "%d Gets against a failing DB made %d queries; want 5 (the threshold), then fail fast — %s", n, got, readme)
	env.Repo.Fail(nil)
	env.Clock.Advance(10 * time.Second)
	_, err := p.Get(context.Background(), "after")
	assert.NoError(t, err, "Get after the DB recovered and the timeout passed; want the probe to succeed — %s", readme)
}

func TestCall_OutcomeOfAnOlderGenerationIsIgnored(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := testutil.NewCircuitBreaker(1, 10*time.Second, clock.Now)
	started := make(chan struct{})
	finish := make(chan struct{})
	slow := make(chan error, 1)
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
		require.Fail(t, "Call blocked by a running call", "a second Call was still blocked 2s after the first one started: do not hold the mutex while fn runs — %s", readme)
	}
	close(finish)
	<-slow
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "a slow success that started before the breaker opened closed it again (State = %v; want open): remember the generation a call started in and ignore its outcome once the state has changed — %s", s, readme)
}

func TestCall_PanicCountsAsAFailure(t *testing.T) {
	cb := testutil.NewCircuitBreaker(1, time.Minute, testutil.NewClock(time.Time{}).Now)
	func() {
		defer func() {
			r := recover()
			assert.Equal(t, "db driver bug", r, "recovered %v; want the panic re-raised to the caller — %s", r, readme)
		}()
		_, _ = cb.Call(func() (any, error) { panic("db driver bug") })
	}()
	s := cb.State()
	assert.Equal(t, testutil.Open, s, "State after a panicking call with threshold 1 = %v; want open: a panic is a failure (record it in a deferred function and let the panic go on to the caller) — %s", s, readme)
	_, err := cb.Call(healthy)
	assert.ErrorIs(t, err, testutil.ErrCircuitOpen, "Call after the panic = %v; want ErrCircuitOpen — %s", err, readme)
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
		require.NoError(t, err, "Get with Redis frozen must still answer from the DB — %s", readme)
		require.Equal(t, fmt.Sprint("value:product:", i), d.Value)
	}
	sent := proxy.Sent() - before
	limit := int64(2 * cfg.CacheBreakerThreshold)
	assert.LessOrEqual(t, sent, limit,
		"%d Gets with Redis frozen sent %d commands to it, each waiting %v for nothing; want at most %d: after %d failures in a row the cache breaker must open and the protector skip Redis — %s",
		n, sent, cfg.CacheTimeout, limit, cfg.CacheBreakerThreshold, readme)
}
