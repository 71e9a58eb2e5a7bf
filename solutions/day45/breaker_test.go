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
					if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
						t.Fatalf("step %d: Call = %v, want %v", i, err, s.wantErr)
					}
					if called == errors.Is(err, day45.ErrCircuitOpen) {
						t.Fatalf("step %d: fn called = %v with error %v", i, called, err)
					}
				}
				if got := cb.State(); got != s.want {
					t.Fatalf("step %d: State = %v, want %v", i, got, s.want)
				}
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
	if calls.Load() != 0 || r.Count(day45.ErrCircuitOpen) != 100 {
		t.Errorf("half-open let %d extra calls through while the probe ran; want 0 (%d got ErrCircuitOpen)",
			calls.Load(), r.Count(day45.ErrCircuitOpen))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if cb.State() != day45.Closed {
		t.Errorf("State after a good probe = %v, want closed", cb.State())
	}
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
	if cb.State() != day45.Open {
		t.Errorf("a slow success from before the breaker opened closed it: State = %v", cb.State())
	}
}

func TestCircuitBreaker_PanicIsAFailure(t *testing.T) {
	cb := day45.NewCircuitBreaker(1, time.Minute, nil)
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want the panic re-raised", r)
			}
		}()
		_, _ = cb.Call(func() (any, error) { panic("kaboom") })
	}()
	if cb.State() != day45.Open {
		t.Errorf("State after a panicking call = %v, want open", cb.State())
	}
}

func TestCircuitBreaker_ZeroValueAndStrings(t *testing.T) {
	var cb day45.CircuitBreaker
	if _, err := cb.Call(ok); err != nil || cb.State() != day45.Closed {
		t.Fatalf("zero breaker: %v, %v", err, cb.State())
	}
	_, _ = cb.Call(fail)
	// Threshold 1 opens it; a zero timeout makes it half-open at once.
	if cb.State() != day45.HalfOpen {
		t.Errorf("zero breaker after a failure: %v, want half-open (threshold 1, no open period)", cb.State())
	}
	for s, want := range map[day45.CircuitState]string{day45.Closed: "closed", day45.Open: "open", day45.HalfOpen: "half-open", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s.String(), want)
		}
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
	for _, err := range r.Errs {
		if err != nil && !errors.Is(err, errBoom) && !errors.Is(err, day45.ErrCircuitOpen) {
			t.Fatalf("unexpected error %v", err)
		}
	}
}
