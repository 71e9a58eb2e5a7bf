package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The simulated world. Durations are on the simulated clock (see simClock); the database latency and the request
// deadline are real time. Each scenario's own constants are in its file (scenario_*.go).
const (
	simTTL           = time.Second            // TTL of every cached value
	simStaleTTL      = 10 * time.Second       // protectors keep a value this long past its TTL, for stale answers
	simJitter        = 0.2                    // JitterPercent of the protectors
	breakerThreshold = 3                      // consecutive DB failures that open a protector's breaker
	breakerTimeout   = 350 * time.Millisecond // open -> half-open
	lockPoll         = 5 * time.Millisecond   // how often a process that lost the lock looks for the value
)

// expiredAfter is past every jittered TTL.
var expiredAfter = time.Duration(float64(simTTL)*(1+simJitter)) + time.Millisecond

// implConfig is the protectors' configuration for one run. The load budget outlasts any sane database latency, and
// the lock outlives the load and its write-back (a second more than LoadTimeout), as day45 requires.
func (o *options) implConfig(prefix string, now func() time.Time) implConfig {
	load := max(5*time.Second, 4*o.dbLatency)
	return implConfig{
		TTL:              simTTL,
		StaleTTL:         simStaleTTL,
		JitterPercent:    simJitter,
		LockTTL:          load + time.Second,
		LockWait:         load + 2*time.Second,
		LockPollInterval: lockPoll,
		LoadTimeout:      load,
		BreakerThreshold: breakerThreshold,
		BreakerTimeout:   breakerTimeout,
		KeyPrefix:        prefix,
		MaxLoads:         o.bulkheadSize(),
		Now:              now,
	}
}

// bulkheadSize is each process's MaxConcurrentLoads: -bulkhead, or when it is 0, the loads the database finishes
// within the request deadline (db-pool per db-latency), two thirds of them, shared by the processes. A load
// admitted beyond that would finish after its caller had left; the third kept back is the deadline's share for
// Redis and for the queue in front of the pool.
func (o *options) bulkheadSize() int {
	if o.bulkhead > 0 {
		return o.bulkhead
	}
	perDeadline := o.dbPool
	if o.dbLatency > 0 {
		perDeadline = int(int64(o.dbPool) * int64(o.timeout) / int64(o.dbLatency))
	}
	return max(1, perDeadline*2/3/o.procs)
}

// ---- running requests ----

// request is one call a client makes: Get, or GetStaleWhileRevalidate, of key in process proc.
type request struct {
	proc int
	key  string
	swr  bool
}

// counts is the accounting of requests: every request sent ends as exactly one of answered, stale or errors.
type counts struct {
	sent, answered, stale, errors int64
}

func (c *counts) add(d counts) {
	c.sent += d.sent
	c.answered += d.answered
	c.stale += d.stale
	c.errors += d.errors
}

const (
	outAnswered = iota + 1
	outStale
	outError
)

// slot is the fate of one request. A worker fills the fields, then moves state from inFlight to done; the
// collector reads the fields only of done slots. A request still in flight when the scenario is abandoned is
// counted as an error and its late result dropped.
type slot struct {
	state   atomic.Int32
	lat     time.Duration
	outcome int
	kind    string // error kind
}

const (
	slotPending   = iota // not started
	slotInFlight         // sent
	slotDone             // answered, stale or errored
	slotAbandoned        // sent, still running when the scenario was abandoned
	slotUnsent           // never sent: the scenario was abandoned first
)

var (
	errAbandoned   = errors.New("no answer before the scenario was abandoned")
	errWrongAnswer = errors.New("wrong answer")
)

// panicError is a panic of an implementation, recovered in the request that raised it.
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.v) }

// runner runs one scenario against one implementation and keeps its accounting.
type runner struct {
	o   *options
	w   *world
	rng *rand.Rand

	mu       sync.Mutex
	total    counts
	kinds    map[string]int64
	lats     []time.Duration
	recovery time.Duration // outage: -1 until every request of a step after the outage was answered fresh
	// redis-outage: lats[frozenFrom:frozenTo] are the latencies of the frozen steps; -1 until marked
	frozenFrom, frozenTo int

	// progress, read by the progress line
	sent, done     atomic.Int64
	step, numSteps atomic.Int64
}

func newRunner(o *options, w *world, seed uint64) *runner {
	return &runner{o: o, w: w, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), kinds: map[string]int64{}, recovery: -1,
		frozenFrom: -1, frozenTo: -1}
}

func (r *runner) setStep(i, n int) {
	r.step.Store(int64(i))
	r.numSteps.Store(int64(n))
}

func (r *runner) shuffle(reqs []request) {
	r.rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
}

// herd sends reqs at once, with at most procs × clients in flight, and waits for all of them or for ctx. It returns
// the step's accounting, and ctx's error if the step was abandoned: then requests in flight count as errors and the
// rest as never sent.
func (r *runner) herd(ctx context.Context, reqs []request) (counts, error) {
	return r.herdOf(ctx, reqs, r.o.procs*r.o.clients)
}

// herdOf is herd with at most inFlight requests in flight.
func (r *runner) herdOf(ctx context.Context, reqs []request, inFlight int) (counts, error) {
	slots := make([]slot, len(reqs))
	start := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(reqs), inFlight) {
		wg.Go(func() {
			<-start
			for {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) || ctx.Err() != nil {
					return
				}
				if !slots[i].state.CompareAndSwap(slotPending, slotInFlight) {
					return // abandoned
				}
				r.sent.Add(1)
				r.one(ctx, reqs[i], &slots[i])
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	close(start)
	var abandoned error
	select {
	case <-finished:
	case <-ctx.Done():
		select {
		case <-finished: // finished meanwhile: nothing to abandon
		default:
			abandoned = ctx.Err()
		}
	}
	return r.collect(slots), abandoned
}

// one sends a request and records its fate in s.
func (r *runner) one(ctx context.Context, req request, s *slot) {
	rctx, cancel := context.WithTimeout(ctx, r.o.timeout)
	defer cancel()
	start := time.Now()
	rec, err := call(rctx, r.w.procs[req.proc], req)
	s.lat = time.Since(start)
	s.outcome, s.kind = r.judge(req.key, rec, err)
	if s.kind == "other" && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		s.kind = "deadline" // e.g. a Redis read cut by the deadline reports a network timeout, not the context's error
	}
	if s.state.CompareAndSwap(slotInFlight, slotDone) {
		r.done.Add(1)
	}
}

// call runs the request, turning a panic of the implementation into an error of this request only.
func call(ctx context.Context, impl cacheImpl, req request) (rec record, err error) {
	defer func() {
		if v := recover(); v != nil {
			rec, err = record{}, &panicError{v}
		}
	}()
	if req.swr {
		return impl.GetStaleWhileRevalidate(ctx, req.key)
	}
	return impl.Get(ctx, req.key)
}

// judge decides the outcome of an answer against the database at the moment of the answer: an error; a record that
// the database never produced for key (wrong answer, counted as an error); a version older than the database's
// current one (stale); or the current version (answered).
func (r *runner) judge(key string, rec record, err error) (int, string) {
	if err != nil {
		return outError, errorKind(err)
	}
	cur := r.w.db.version(key)
	if rec.Key != key || rec.Version < 1 || rec.Version > cur || rec.Value != valueOf(key, rec.Version) {
		return outError, errorKind(errWrongAnswer)
	}
	if rec.Version < cur {
		return outStale, ""
	}
	return outAnswered, ""
}

// collect settles every slot, abandoning those still in flight, and adds them to the run's accounting.
func (r *runner) collect(slots []slot) counts {
	var c counts
	kinds := map[string]int64{}
	lats := make([]time.Duration, 0, len(slots))
	for i := range slots {
		s := &slots[i]
		for {
			switch st := s.state.Load(); st {
			case slotPending:
				if !s.state.CompareAndSwap(st, slotUnsent) {
					continue
				}
			case slotInFlight:
				if !s.state.CompareAndSwap(st, slotAbandoned) {
					continue
				}
				c.sent++
				c.errors++
				kinds[errorKind(errAbandoned)]++
			case slotDone:
				c.sent++
				lats = append(lats, s.lat)
				switch s.outcome {
				case outAnswered:
					c.answered++
				case outStale:
					c.stale++
				default:
					c.errors++
					kinds[s.kind]++
				}
			}
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total.add(c)
	for k, n := range kinds {
		r.kinds[k] += n
	}
	r.lats = append(r.lats, lats...)
	return c
}

// ---- one scenario, one implementation ----

// runOne runs sc against kind and returns its result. Nothing the implementation does stops the run: a panic is
// an error of its request, a hang is cut by the scenario's budget.
func runOne(ctx context.Context, o *options, sc *scenario, kind implKind, runID string, seed uint64, prog *progress) (res implResult) {
	res = implResult{Impl: string(kind), Label: kind.label(), Status: statusOK, ErrorKinds: map[string]int64{}}
	started := time.Now()
	w, err := newWorld(ctx, o, sc, kind, runID)
	if err != nil {
		res.Status, res.Problems = statusFailed, append([]string{err.Error()}, w.close(closeWithin)...)
		res.Timeline, res.CallsTimeline = []int64{}, []int64{}
		return res
	}
	r := newRunner(o, w, seed)
	prog.begin(sc.name, kind, r, w.db)
	defer prog.end()

	budget := o.scenarioBudget()
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	runErr := awaitScenario(sctx, sc, r)
	// Close waits for the processes' background work (SWR refreshes), so the database counts below include it.
	closeProblems := w.close(closeWithin)
	res.WallMs = ms(time.Since(started))
	res.setStatus(ctx, sctx, runErr, budget)

	r.mu.Lock()
	defer r.mu.Unlock()
	res.Problems = append(res.Problems, closeProblems...)
	res.fill(r.total, r.kinds, r.lats, w.db)
	res.fillScenario(sc, r)
	if n := r.kinds["panic"]; n > 0 && res.Status == statusOK {
		res.Status = statusPanicked
		res.Problems = append(res.Problems, fmt.Sprintf("%d requests panicked", n))
	}
	return res
}

// awaitScenario runs sc on a goroutine of its own and returns its error. If sctx ends first, it gives the scenario
// a moment to notice (it may be stuck outside a herd, in a Set, say), then leaves it.
func awaitScenario(sctx context.Context, sc *scenario, r *runner) error {
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				errc <- &panicError{v}
			}
		}()
		errc <- sc.run(sctx, r)
	}()
	select {
	case err := <-errc:
		return err
	case <-sctx.Done():
	}
	t := time.NewTimer(closeWithin)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		return sctx.Err()
	}
}

// setStatus sets the result's status from how the scenario ended: runErr, ctx (the whole run: interrupted) and
// sctx (the scenario's budget).
func (res *implResult) setStatus(ctx, sctx context.Context, runErr error, budget time.Duration) {
	var pe *panicError
	switch {
	case runErr == nil:
	case ctx.Err() != nil:
		res.Status, res.Problems = statusFailed, []string{"interrupted: " + ctx.Err().Error()}
	case errors.Is(runErr, context.DeadlineExceeded) && sctx.Err() != nil:
		res.Status = statusTimedOut
		res.Problems = []string{fmt.Sprintf("scenario still running after %v: abandoned", budget)}
	case errors.As(runErr, &pe):
		res.Status, res.Problems = statusPanicked, []string{"panic outside a request: " + fmt.Sprint(pe.v)}
	default:
		res.Status, res.Problems = statusFailed, []string{runErr.Error()}
	}
}

// fillScenario adds what only some scenarios report: the time to recover, and the scenario's own fields. Call with
// r.mu held.
func (res *implResult) fillScenario(sc *scenario, r *runner) {
	if sc.recovery {
		v := -1.0
		if r.recovery >= 0 {
			v = ms(r.recovery)
		}
		res.RecoveryMs = &v
	}
	if sc.finish != nil {
		sc.finish(res, r)
	}
}

// closeWithin bounds a Close and the wait for a stuck scenario.
const closeWithin = 5 * time.Second

// scenarioBudget bounds one scenario against one implementation: far more than it needs even if every request
// of every step runs into its deadline, so that only a hang reaches it.
func (o *options) scenarioBudget() time.Duration {
	if o.budget > 0 {
		return o.budget
	}
	return time.Duration(maxSteps()+2)*(2*o.timeout+time.Duration(o.keys)*o.dbLatency/time.Duration(o.dbPool)) +
		expiredAfter + 10*time.Second
}

// sortedCopy returns the latencies sorted.
func sortedCopy(l []time.Duration) []time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s
}
