package day45

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// CircuitState is the state of a CircuitBreaker.
type CircuitState int

const (
	Closed   CircuitState = iota // calls go through; consecutive failures are counted
	Open                         // calls fail fast with ErrCircuitOpen until the timeout passes
	HalfOpen                     // one probe goes through; its outcome closes or re-opens the breaker
)

func (s CircuitState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// CircuitBreaker stops calling a failing dependency. It is safe for concurrent use.
//
// Closed: after threshold consecutive failures it opens. Open: calls fail with ErrCircuitOpen; after timeout it
// turns half-open. HalfOpen: exactly one call, the probe, goes through while the others fail fast; the probe's
// success closes the breaker, its failure re-opens it. Every change of state starts a new generation, so the
// outcome of a call that began in an earlier generation is ignored: a slow success from before the breaker opened
// must not close it.
//
// ErrNotFound counts as a success: the dependency answered. The zero value is a breaker with threshold 1 and no
// open period, on time.Now.
type CircuitBreaker struct {
	threshold int
	timeout   time.Duration
	now       func() time.Time

	// healthyGen is generation+1 while the breaker is closed with no failure counted, else 0: one atomic word, so
	// that Call reads the state and its generation together. While healthy, Call admits, and records a success,
	// without the mutex and the clock: the breaker sits on every cache hit, which it must not serialise.
	healthyGen atomic.Uint64

	mu         sync.Mutex
	state      CircuitState
	generation uint64
	failures   int       // consecutive failures while closed
	openedAt   time.Time // when the breaker last opened
	probing    bool      // a half-open probe is in flight
	trips      int64     // transitions to open
}

// NewCircuitBreaker returns a closed breaker that opens after threshold consecutive failures (at least 1) and lets a
// probe through timeout after opening. now is its clock; nil means time.Now.
func NewCircuitBreaker(threshold int, timeout time.Duration, now func() time.Time) *CircuitBreaker {
	return &CircuitBreaker{threshold: threshold, timeout: timeout, now: now}
}

// Call runs fn unless the breaker is open, or half-open with its probe already in flight; then it returns
// ErrCircuitOpen without calling fn. A panic in fn counts as a failure and is re-raised.
func (cb *CircuitBreaker) Call(fn func() (any, error)) (any, error) {
	healthy := cb.healthyGen.Load()
	gen := healthy - 1
	if healthy == 0 {
		var err error
		if gen, err = cb.before(); err != nil {
			return nil, err
		}
	}
	done := false
	defer func() {
		if !done { // fn panicked
			cb.after(gen, false)
		}
	}()
	v, err := fn()
	done = true
	if ok := err == nil || errors.Is(err, ErrNotFound); !ok || healthy == 0 || cb.healthyGen.Load() != healthy {
		cb.after(gen, ok) // a success while still healthy would change nothing
	}
	return v, err
}

// State returns the current state, turning open into half-open once the timeout has passed.
func (cb *CircuitBreaker) State() CircuitState {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cb.advance(cb.clock())
	return cb.state
}

// tripCount returns how many times the breaker has opened.
func (cb *CircuitBreaker) tripCount() int64 {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.trips
}

// before admits a call and returns the generation it belongs to.
func (cb *CircuitBreaker) before() (uint64, error) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	defer cb.publish()
	cb.advance(cb.clock())
	switch cb.state {
	case Open:
		return 0, ErrCircuitOpen
	case HalfOpen:
		if cb.probing {
			return 0, ErrCircuitOpen
		}
		cb.probing = true
	}
	return cb.generation, nil
}

// after records the outcome of a call admitted in generation gen.
func (cb *CircuitBreaker) after(gen uint64, ok bool) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	defer cb.publish()
	now := cb.clock()
	cb.advance(now)
	if gen != cb.generation {
		return
	}
	switch {
	case cb.state == Closed && ok:
		cb.failures = 0
	case cb.state == Closed:
		cb.failures++
		if cb.failures >= max(cb.threshold, 1) {
			cb.setState(Open, now)
		}
	case cb.state == HalfOpen && ok:
		cb.setState(Closed, now)
	case cb.state == HalfOpen:
		cb.setState(Open, now)
	}
}

// advance moves an open breaker to half-open once its timeout has passed.
func (cb *CircuitBreaker) advance(now time.Time) {
	if cb.state == Open && !now.Before(cb.openedAt.Add(cb.timeout)) {
		cb.setState(HalfOpen, now)
	}
}

func (cb *CircuitBreaker) setState(s CircuitState, now time.Time) {
	cb.state = s
	cb.generation++
	cb.failures = 0
	cb.probing = false
	if s == Open {
		cb.openedAt = now
		cb.trips++
	}
	cb.publish()
}

// publish updates healthyGen after a change under mu.
func (cb *CircuitBreaker) publish() {
	if cb.state == Closed && cb.failures == 0 {
		cb.healthyGen.Store(cb.generation + 1)
	} else {
		cb.healthyGen.Store(0)
	}
}

func (cb *CircuitBreaker) clock() time.Time {
	if cb.now == nil {
		return time.Now()
	}
	return cb.now()
}
