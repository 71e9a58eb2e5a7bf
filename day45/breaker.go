// Step 04 — circuit breaker. Lesson: steps/04-breaker/README.md
//
// Build the breaker that every database query goes through (loadDB in protector.go calls p.breaker.Call): after
// too many consecutive failures it stops calling the database for a while, then lets ONE probe test it. Until you
// do, Call always calls fn, so a failing database is hammered by every miss.
//
// Check: go test ./steps/04-breaker/

package day45

import "time"

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

// CircuitBreaker stops calling a failing dependency. It must be safe for concurrent use.
//
// Closed: after threshold consecutive failures it opens. Open: calls fail with ErrCircuitOpen; once timeout has
// passed it turns half-open. HalfOpen: exactly one call, the probe, goes through while the others fail fast with
// ErrCircuitOpen; the probe's success closes the breaker, its failure re-opens it. The outcome of a call that began
// before the last change of state must not move the breaker (a slow success from before it opened must not close
// it). ErrNotFound counts as a success: the dependency answered. Every transition to open is one trip.
type CircuitBreaker struct {
	threshold int              // consecutive failures that open the breaker; less than 1 means 1
	timeout   time.Duration    // how long it stays open before the probe
	now       func() time.Time // its clock; nil means time.Now

	// TODO(step 04): add the state machine, all guarded by one sync.Mutex: the state, the consecutive failures,
	// when it opened, whether a half-open probe is in flight, a generation number that changes with every state
	// change, and the number of trips.
}

// NewCircuitBreaker returns a closed breaker that opens after threshold consecutive failures (at least 1) and lets a
// probe through timeout after opening. now is its clock; nil means time.Now.
func NewCircuitBreaker(threshold int, timeout time.Duration, now func() time.Time) *CircuitBreaker {
	return &CircuitBreaker{threshold: threshold, timeout: timeout, now: now}
}

// Call runs fn unless the breaker is open, or half-open with its probe already in flight; then it returns
// ErrCircuitOpen without calling fn. A panic in fn counts as a failure and is re-raised.
func (cb *CircuitBreaker) Call(fn func() (any, error)) (any, error) {
	// TODO(step 04): before fn, under the mutex: turn open into half-open once timeout has passed (on cb.now, not
	// time.Now), refuse with ErrCircuitOpen while open or while a probe is in flight, else admit the call (marking
	// it the probe when half-open) and note the generation. Call fn WITHOUT holding the mutex. After fn, under the
	// mutex: ignore the outcome if the generation changed; otherwise count err == nil or errors.Is(err, ErrNotFound)
	// as success, anything else (and a panic) as failure, and move the state machine.
	return fn()
}

// State returns the current state, turning open into half-open once the timeout has passed.
func (cb *CircuitBreaker) State() CircuitState {
	// TODO(step 04): read the state under the mutex, after the same open -> half-open check as Call.
	return Closed
}

// tripCount returns how many times the breaker has opened. GetMetrics reports it as CircuitBreakerTrips.
func (cb *CircuitBreaker) tripCount() int64 {
	// TODO(step 04): return the number of transitions to open, read under the mutex.
	return 0
}
