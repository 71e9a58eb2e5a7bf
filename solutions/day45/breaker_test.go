//go:build solution

package day45_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBoom = errors.New("boom")

func ok() (any, error)   { return "ok", nil }
func fail() (any, error) { return nil, errBoom }

func TestCircuitBreaker_StateMachine(t *testing.T) {
	type step struct {
		advance time.Duration
		fn      func() (any, error) // nil: only check the state
		wantErr error
		want    day45.CircuitState
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"opens after threshold consecutive failures", []step{
			{fn: fail, wantErr: errBoom, want: day45.Closed},
			{fn: fail, wantErr: errBoom, want: day45.Closed},
			{fn: fail, wantErr: errBoom, want: day45.Open},
			{fn: ok, wantErr: day45.ErrCircuitOpen, want: day45.Open},
		}},
		{"a success resets the count", []step{
			{fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom}, {fn: ok},
			{fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom, want: day45.Closed},
		}},
		{"not found is not a failure", []step{
			{fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom},
			{fn: func() (any, error) { return nil, fmt.Errorf("k: %w", day45.ErrNotFound) }, wantErr: day45.ErrNotFound},
			{fn: fail, wantErr: errBoom, want: day45.Closed},
		}},
		{"half-open after the timeout, a good probe closes", []step{
			{fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom, want: day45.Open},
			{advance: 9 * time.Second, want: day45.Open},
			{advance: time.Second, want: day45.HalfOpen},
			{fn: ok, want: day45.Closed},
			{fn: fail, wantErr: errBoom, want: day45.Closed}, // the count started again
		}},
		{"a failed probe re-opens for another timeout", []step{
			{fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom}, {fn: fail, wantErr: errBoom, want: day45.Open},
			{advance: 10 * time.Second, fn: fail, wantErr: errBoom, want: day45.Open},
			{advance: 9 * time.Second, fn: ok, wantErr: day45.ErrCircuitOpen, want: day45.Open},
			{advance: time.Second, fn: ok, want: day45.Closed},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := testutil.NewClock(time.Time{})
			cb := day45.NewCircuitBreaker(3, 10*time.Second, clock.Now)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				if s.fn != nil {
					called := false
					_, err := cb.Call(func() (any, error) { called = true; return s.fn() })
					if s.wantErr == nil {
						require.NoError(t, err, "step %d: Call", i)
					} else {
						require.ErrorIs(t, err, s.wantErr, "step %d: Call", i)
					}
					require.Equal(t, !errors.Is(err, day45.ErrCircuitOpen), called,
						"step %d: fn called = %v with error %v: fn must run unless the breaker refuses the call", i, called, err)
				}
				require.Equal(t, s.want, cb.State(), "step %d: State = %v, want %v", i, cb.State(), s.want)
			}
		})
	}
}

func TestCircuitBreaker_OneProbeUnderConcurrency(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := day45.NewCircuitBreaker(1, time.Second, clock.Now)
	_, _ = cb.Call(fail)
	clock.Advance(time.Second)

	probe := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := cb.Call(func() (any, error) { close(probe); <-release; return ok() })
		done <- err
	}()
	<-probe
	var calls atomic.Int64
	r := testutil.Herd(100, func(int) error {
		_, err := cb.Call(func() (any, error) { calls.Add(1); return ok() })
		return err
	})
	assert.Zero(t, calls.Load(), "half-open let extra calls through while the probe ran")
	assert.Equal(t, 100, r.Count(day45.ErrCircuitOpen), "calls that got ErrCircuitOpen while the probe ran")
	close(release)
	require.NoError(t, <-done, "probe")
	assert.Equal(t, day45.Closed, cb.State(), "State after a good probe = %v, want closed", cb.State())
}

func TestCircuitBreaker_StaleOutcomeIsIgnored(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := day45.NewCircuitBreaker(1, time.Second, clock.Now)
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = cb.Call(func() (any, error) { close(started); <-release; return ok() })
	}()
	<-started
	_, _ = cb.Call(fail) // opens while the slow call runs
	close(release)
	<-done
	assert.Equal(t, day45.Open, cb.State(), "a slow success from before the breaker opened closed it: State = %v", cb.State())
}

func TestCircuitBreaker_PanicIsAFailure(t *testing.T) {
	cb := day45.NewCircuitBreaker(1, time.Minute, nil)
	assert.PanicsWithValue(t, "kaboom", func() {
		_, _ = cb.Call(func() (any, error) { panic("kaboom") })
	}, "want the panic re-raised")
	assert.Equal(t, day45.Open, cb.State(), "State after a panicking call = %v, want open", cb.State())
}

func TestCircuitBreaker_ZeroValueAndStrings(t *testing.T) {
	var cb day45.CircuitBreaker
	_, err := cb.Call(ok)
	require.NoError(t, err, "zero breaker")
	require.Equal(t, day45.Closed, cb.State(), "zero breaker: State = %v", cb.State())
	_, _ = cb.Call(fail)
	// Threshold 1 opens it; a zero timeout makes it half-open at once.
	assert.Equal(t, day45.HalfOpen, cb.State(),
		"zero breaker after a failure: %v, want half-open (threshold 1, no open period)", cb.State())
	for s, want := range map[day45.CircuitState]string{day45.Closed: "closed", day45.Open: "open", day45.HalfOpen: "half-open", 9: "unknown"} {
		assert.Equal(t, want, s.String(), "%d.String()", int(s))
	}
}

func TestCircuitBreaker_Concurrent(t *testing.T) {
	clock := testutil.NewClock(time.Time{})
	cb := day45.NewCircuitBreaker(5, time.Second, clock.Now)
	r := testutil.Herd(200, func(i int) error {
		if i%50 == 0 {
			clock.Advance(time.Second)
		}
		_ = cb.State()
		if i%3 == 0 {
			_, err := cb.Call(fail)
			return err
		}
		_, err := cb.Call(ok)
		return err
	})
	for i, err := range r.Errs {
		if err == nil || errors.Is(err, errBoom) {
			continue
		}
		assert.ErrorIs(t, err, day45.ErrCircuitOpen, "call %d: unexpected error %v, want nil, errBoom or ErrCircuitOpen", i, err)
	}
}
