package testutil

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Repo is a controllable fake database: it implements Load of the DataRepository interface and counts how it is
// called, which is how tests see a thundering herd. It is safe for concurrent use. Create it with NewRepo.
//
// Unless told otherwise, Load(key) returns Value "value:"+key with Version n, n being the count of successful loads
// of that key so far, so a reload is visibly a new version.
type Repo struct {
	mu        sync.Mutex
	values    map[string]string // Put overrides
	missing   map[string]bool   // keys that answer ErrNotFound
	versions  map[string]int64  // successful loads per key
	loadsOf   map[string]int64  // calls per key
	gate      chan struct{}     // non-nil while held; closed by Release
	readEarly bool              // loads read their answer before they wait at the gate (HoldAfterRead)
	latency   time.Duration     // real delay of every load
	failErr   error             // non-nil: loads fail with it
	panicVal  any               // non-nil: loads panic with it
	now       func() time.Time  // UpdatedAt of loaded values
	clock     *Clock            // moved forward by took during every load (TakeClockTime)
	took      time.Duration

	loads, inFlight, maxInFlight, completed atomic.Int64
}

// NewRepo returns a repository that answers every key, at once, with no failures.
func NewRepo() *Repo {
	return &Repo{
		values:   map[string]string{},
		missing:  map[string]bool{},
		versions: map[string]int64{},
		loadsOf:  map[string]int64{},
		now:      time.Now,
	}
}

// Load answers key, after the gate (Hold) opens and the latency (SetLatency) passes, both cut short by ctx. Its
// answer follows the settings at the moment it answers (or, after HoldAfterRead, at the moment it starts): Panic
// first, then Fail, then Missing, then the value.
func (r *Repo) Load(ctx context.Context, key string) (*Data, error) {
	r.loads.Add(1)
	r.enter()
	defer r.exit()

	r.mu.Lock()
	r.loadsOf[key]++
	gate, latency := r.gate, r.latency
	var early func() (*Data, error)
	if r.readEarly {
		early = r.answerLocked(key)
	}
	r.mu.Unlock()

	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if latency > 0 {
		timer := time.NewTimer(latency)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
	}

	r.mu.Lock()
	clock, took := r.clock, r.took
	r.mu.Unlock()
	if clock != nil && took > 0 {
		clock.Advance(took) // the load takes this long on the test's clock
	}

	if early != nil {
		return early()
	}
	r.mu.Lock()
	answer := r.answerLocked(key)
	r.mu.Unlock()
	return answer()
}

// answerLocked reads key's row as the settings say now and returns the answer to give; r.mu is held.
func (r *Repo) answerLocked(key string) func() (*Data, error) {
	panicVal, failErr, missing := r.panicVal, r.failErr, r.missing[key]
	switch {
	case panicVal != nil:
		return func() (*Data, error) { panic(panicVal) }
	case failErr != nil:
		return func() (*Data, error) { return nil, failErr }
	case missing:
		return func() (*Data, error) { return nil, fmt.Errorf("testutil: repo: key %q: %w", key, ErrNotFound) }
	}
	value, ok := r.values[key]
	if !ok {
		value = "value:" + key
	}
	r.versions[key]++
	d := &Data{Key: key, Value: value, Version: r.versions[key], UpdatedAt: r.now()}
	return func() (*Data, error) { return d, nil }
}

// enter counts a load in flight and records the highest concurrency seen.
func (r *Repo) enter() {
	n := r.inFlight.Add(1)
	for {
		m := r.maxInFlight.Load()
		if n <= m || r.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

// exit counts a load that returned, whatever the outcome, panics included.
func (r *Repo) exit() {
	r.inFlight.Add(-1)
	r.completed.Add(1)
}

// SetNow sets the clock that stamps UpdatedAt (time.Now by default); NewEnv passes its fake clock.
func (r *Repo) SetNow(now func() time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	r.now = now
}

// Put makes key load with value from now on; a missing key exists again.
func (r *Repo) Put(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values[key] = value
	delete(r.missing, key)
}

// Missing makes loads of keys fail with an error wrapping ErrNotFound.
func (r *Repo) Missing(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.missing[k] = true
	}
}

// SetLatency makes every load take d of real time (0 for none), unless its ctx ends first.
func (r *Repo) SetLatency(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency = d
}

// TakeClockTime makes every load take d of clock's time: the load moves clock forward by d (after the gate and the
// latency), as a slow query would, so that the protector measures a load time of d. 0 stops it.
func (r *Repo) TakeClockTime(clock *Clock, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock, r.took = clock, d
}

// Hold closes the gate: every load that starts from now on blocks until Release or its ctx ends. Holding a held gate
// does nothing.
func (r *Repo) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gate == nil {
		r.gate = make(chan struct{})
	}
}

// HoldAfterRead is Hold for loads that read their row as they start and then wait: a slow query that saw the row
// before an update. Release lets them go on with what they read.
func (r *Repo) HoldAfterRead() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readEarly = true
	if r.gate == nil {
		r.gate = make(chan struct{})
	}
}

// SetVersion makes the next successful load of key answer version v, and the later ones v+1, v+2, ...
func (r *Repo) SetVersion(key string, v int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.versions[key] = v - 1
}

// Release opens the gate and lets every held load go on. It is idempotent; a later Hold holds again.
func (r *Repo) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gate != nil {
		close(r.gate)
		r.gate = nil
	}
	r.readEarly = false
}

// Fail makes loads fail with err; nil stops failing.
func (r *Repo) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failErr = err
}

// Panic makes loads panic with v, as a buggy driver would; nil stops panicking.
func (r *Repo) Panic(v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.panicVal = v
}

// Loads returns how many times Load was called, counted on entry: a held load counts.
func (r *Repo) Loads() int64 { return r.loads.Load() }

// InFlight returns how many loads have started and not returned.
func (r *Repo) InFlight() int64 { return r.inFlight.Load() }

// MaxInFlight returns the highest InFlight seen: above 1 for one key, the herd reached the database.
func (r *Repo) MaxInFlight() int64 { return r.maxInFlight.Load() }

// Completed returns how many loads have returned, whatever the outcome.
func (r *Repo) Completed() int64 { return r.completed.Load() }

// LoadsOf returns how many times Load was called for key.
func (r *Repo) LoadsOf(key string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadsOf[key]
}

// waitLimit bounds the real-time waits of WaitLoads and WaitInFlight: they fail the test, never hang it.
const waitLimit = 5 * time.Second

// WaitLoads waits until at least n loads have started, and fails the test with msg after 5s of real time.
func (r *Repo) WaitLoads(t testing.TB, n int64, msg string) {
	t.Helper()
	poll(t, func() bool { return r.Loads() >= n }, waitLimit, func() string {
		return fmt.Sprintf("%s: want %d loads started, have %d (%d in flight)", msg, n, r.Loads(), r.InFlight())
	})
}

// WaitInFlight waits until at least n loads are in flight at once, and fails the test with msg after 5s of real time.
func (r *Repo) WaitInFlight(t testing.TB, n int64, msg string) {
	t.Helper()
	poll(t, func() bool { return r.InFlight() >= n }, waitLimit, func() string {
		return fmt.Sprintf("%s: want %d loads in flight, have %d (%d started)", msg, n, r.InFlight(), r.Loads())
	})
}
