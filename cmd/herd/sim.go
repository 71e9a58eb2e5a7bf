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

	"golang.org/x/sync/errgroup"
)

// The simulated world. Durations are on the simulated clock (see simClock); the database latency and the request
// deadline are real time.
const (
	simTTL           = time.Second            // TTL of every cached value
	simStaleTTL      = 10 * time.Second       // protectors keep a value this long past its TTL, for stale answers
	simJitter        = 0.2                    // JitterPercent of the protectors
	breakerThreshold = 3                      // consecutive DB failures that open a protector's breaker
	breakerTimeout   = 350 * time.Millisecond // open -> half-open
	lockPoll         = 5 * time.Millisecond   // how often a process that lost the lock looks for the value
	expiryStep       = 50 * time.Millisecond  // mass expiry: one read of every key per step
	outageStep       = 100 * time.Millisecond // outage: one read per client per step
	outageSteps      = 7                      // steps while the database is down
	recoverySteps    = 6                      // steps after it is back
	redisStep        = 500 * time.Millisecond // redis-outage: one read per client per step
	redisWarmSteps   = 1                      // redis-outage: steps before Redis freezes
	redisFrozenSteps = 4                      // redis-outage: steps while it is frozen (two cache cool-downs)
	redisHealedSteps = 2                      // redis-outage: steps after it is healed
)

// redisOutageSteps is the length of the redis-outage scenario.
const redisOutageSteps = redisWarmSteps + redisFrozenSteps + redisHealedSteps

// Mass expiry reads every key once per step, from just before the earliest jittered expiry to just after the latest.
var (
	expiredAfter = time.Duration(float64(simTTL)*(1+simJitter)) + time.Millisecond // past every jittered TTL
	expiryFrom   = time.Duration(float64(simTTL)*(1-simJitter)) - 2*expiryStep
	expiryTo     = time.Duration(float64(simTTL)*(1+simJitter)) + 3*expiryStep
	expirySteps  = int((expiryTo-expiryFrom)/expiryStep) + 1
)

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
		Now:              now,
	}
}

// scenario is one experiment, run once per implementation.
type scenario struct {
	name    string
	buckets int  // timeline length
	realBkt bool // buckets are slices of real time (bursts), else steps of simulated time
	proxy   bool // the processes reach Redis through a faultProxy, which the scenario freezes
	run     func(ctx context.Context, r *runner) error
}

func (o *options) scenarioByName(name string) *scenario {
	switch name {
	case "hotkey":
		return &scenario{name: name, buckets: o.burstBuckets(), realBkt: true, run: runHotKey}
	case "expiry":
		return &scenario{name: name, buckets: expirySteps, run: runExpiry}
	case "outage":
		return &scenario{name: name, buckets: outageSteps + recoverySteps, run: runOutage}
	case "swr":
		return &scenario{name: name, buckets: o.burstBuckets(), realBkt: true, run: runSWR}
	case "redis-outage":
		return &scenario{name: name, buckets: redisOutageSteps, proxy: true, run: runRedisOutage}
	}
	return nil
}

var scenarioNames = []string{"hotkey", "expiry", "outage", "swr", "redis-outage"}

// bucketWidth is the real time of one timeline bucket of a burst: a whole number of database latencies (so that
// the batches of a saturated pool do not alias into a beat), about a twentieth of the request deadline.
func (o *options) bucketWidth() time.Duration {
	if o.dbLatency <= 0 {
		return max(o.timeout/20, time.Millisecond)
	}
	return o.dbLatency * max(1, (o.timeout+10*o.dbLatency)/(20*o.dbLatency))
}

// burstBuckets is the length of a burst's timeline: the request deadline and a fifth more.
func (o *options) burstBuckets() int {
	return min(max(int((o.timeout+o.timeout/5)/o.bucketWidth())+1, 8), 60)
}

// ---- scenarios ----

// runHotKey: one key has just expired, and P processes × N goroutines Get it at once.
func runHotKey(ctx context.Context, r *runner) error { return burst(ctx, r, false) }

// runSWR: the same moment, read with GetStaleWhileRevalidate (the no-protection column has only cache-aside Get).
func runSWR(ctx context.Context, r *runner) error { return burst(ctx, r, true) }

func burst(ctx context.Context, r *runner, swr bool) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	// Past the TTL of every implementation, jitter included. The data changed meanwhile: that is why the cached copy
	// is stale, and an answer of the old version counts as stale.
	if err := w.clock.advance(ctx, expiredAfter); err != nil {
		return err
	}
	w.db.update(key)
	reqs := make([]request, 0, r.o.procs*r.o.clients)
	for p := range r.o.procs {
		for range r.o.clients {
			reqs = append(reqs, request{proc: p, key: key, swr: swr})
		}
	}
	r.shuffle(reqs)
	w.db.timeline.startClock(r.o.bucketWidth())
	r.setStep(1, 1)
	_, err := r.herd(ctx, reqs)
	return err
}

// runExpiry: K keys written at once with one TTL, then every key read once per step across the expiry window.
func runExpiry(ctx context.Context, r *runner) error {
	w := r.w
	keys := make([]string, r.o.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%05d", i)
	}
	recs := w.db.create(keys)
	if err := writeAll(ctx, w, recs); err != nil {
		return err
	}
	if err := w.clock.advance(ctx, expiryFrom-expiryStep); err != nil {
		return err
	}
	reqs := make([]request, len(keys))
	for s := range expirySteps {
		if err := w.clock.advance(ctx, expiryStep); err != nil {
			return err
		}
		for i, k := range keys {
			reqs[i] = request{proc: r.rng.IntN(r.o.procs), key: k}
		}
		r.shuffle(reqs)
		w.db.timeline.setBucket(s)
		r.setStep(s+1, expirySteps)
		if _, err := r.herd(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}

// writeAll writes recs with one TTL, each process writing its share at the same (simulated) moment. The first
// failure stops the other writers.
func writeAll(ctx context.Context, w *world, recs []record) error {
	g, ctx := errgroup.WithContext(ctx)
	for p, proc := range w.procs {
		g.Go(func() error {
			for i := p; i < len(recs); i += len(w.procs) {
				if err := proc.Set(ctx, recs[i].Key, recs[i], simTTL); err != nil {
					return fmt.Errorf("writing %s: %w", recs[i].Key, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// runOutage: the hot key expires as the database goes down; every client reads it once per step through the outage
// and after the database is back.
func runOutage(ctx context.Context, r *runner) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	if err := w.clock.advance(ctx, expiredAfter); err != nil {
		return err
	}
	w.db.update(key)
	w.db.setDown(true)
	reqs := r.everyClient(key)
	total := outageSteps + recoverySteps
	recovered := false
	for s := range total {
		if s == outageSteps {
			w.db.setDown(false)
		}
		r.shuffle(reqs)
		w.db.timeline.setBucket(s)
		r.setStep(s+1, total)
		c, err := r.herd(ctx, reqs)
		if err != nil {
			return err
		}
		if s >= outageSteps && !recovered && c.answered == c.sent {
			recovered = true
			r.mu.Lock()
			r.recovery = time.Duration(s-outageSteps) * outageStep
			r.mu.Unlock()
		}
		if s < total-1 {
			if err := w.clock.advance(ctx, outageStep); err != nil {
				return err
			}
		}
	}
	return nil
}

// runRedisOutage: the hot key is read once per client per step: with Redis healthy, then frozen (blackholed by the
// proxy: connections accepted, never answered) while the key expires and its data changes, then healed.
func runRedisOutage(ctx context.Context, r *runner) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	reqs := r.everyClient(key)
	healed := redisWarmSteps + redisFrozenSteps
	for s := range redisOutageSteps {
		advance := redisStep
		switch s {
		case 0:
			advance = 0
		case redisWarmSteps: // the key expires while Redis is frozen, and its data changes
			if err := w.setFrozen(ctx, true); err != nil {
				return err
			}
			r.markFrozen()
			advance = expiredAfter
			w.db.update(key)
		case healed:
			if err := w.setFrozen(ctx, false); err != nil {
				return err
			}
			r.markFrozen()
		}
		if err := w.clock.advance(ctx, advance); err != nil {
			return err
		}
		c, err := r.runStep(ctx, reqs, s, redisOutageSteps)
		if err != nil {
			return err
		}
		if s >= healed && c.answered == c.sent && w.db.timeline.calls[s].Load() == 0 {
			r.recovered(time.Duration(s-healed) * redisStep)
		}
	}
	return nil
}

// everyClient is one request of key per client of every process.
func (r *runner) everyClient(key string) []request {
	reqs := make([]request, 0, r.o.procs*r.o.clients)
	for p := range r.o.procs {
		for range r.o.clients {
			reqs = append(reqs, request{proc: p, key: key})
		}
	}
	return reqs
}

// runStep sends reqs as step s of n, counted in bucket s, and calls the test hook after it.
func (r *runner) runStep(ctx context.Context, reqs []request, s, n int) (counts, error) {
	r.shuffle(reqs)
	r.w.db.timeline.setBucket(s)
	r.setStep(s+1, n)
	c, err := r.herd(ctx, reqs)
	if err == nil && r.o.stepHook != nil {
		r.o.stepHook(s)
	}
	return c, err
}

// recovered records the time to recover, the first time only.
func (r *runner) recovered(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.recovery < 0 {
		r.recovery = d
	}
}

// markFrozen marks where the latencies of the frozen steps begin, then where they end.
func (r *runner) markFrozen() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozenFrom < 0 {
		r.frozenFrom = len(r.lats)
	} else {
		r.frozenTo = len(r.lats)
	}
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
	slots := make([]slot, len(reqs))
	start := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(reqs), r.o.procs*r.o.clients) {
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
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				errc <- &panicError{v}
			}
		}()
		errc <- sc.run(sctx, r)
	}()
	var runErr error
	select {
	case runErr = <-errc:
	case <-sctx.Done():
		// The scenario is stuck outside a herd (in a Set, say): give it a moment to notice, then leave it.
		t := time.NewTimer(closeWithin)
		select {
		case runErr = <-errc:
		case <-t.C:
			runErr = sctx.Err()
		}
		t.Stop()
	}
	// Close waits for the processes' background work (SWR refreshes), so the database counts below include it.
	closeProblems := w.close(closeWithin)
	res.WallMs = ms(time.Since(started))

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

	r.mu.Lock()
	defer r.mu.Unlock()
	res.Problems = append(res.Problems, closeProblems...)
	res.fill(r.total, r.kinds, r.lats, w.db, sc, o)
	res.fillOutage(sc, r)
	if n := r.kinds["panic"]; n > 0 && res.Status == statusOK {
		res.Status = statusPanicked
		res.Problems = append(res.Problems, fmt.Sprintf("%d requests panicked", n))
	}
	return res
}

// fillOutage adds what only the outage scenarios report: the time to recover, and for redis-outage the latency in
// the frozen steps and the DB calls made in them. Call with r.mu held.
func (res *implResult) fillOutage(sc *scenario, r *runner) {
	if sc.name != "outage" && sc.name != "redis-outage" {
		return
	}
	v := -1.0
	if r.recovery >= 0 {
		v = ms(r.recovery)
	}
	res.RecoveryMs = &v
	if sc.name != "redis-outage" {
		return
	}
	from, to := r.frozenFrom, r.frozenTo
	if from < 0 {
		from = len(r.lats)
	}
	if to < from {
		to = len(r.lats) // abandoned while frozen
	}
	l := latencyOf(r.lats[from:to])
	res.FrozenLatencyMs = &l
	res.DBOutageCalls = 0
	for s := redisWarmSteps; s < redisWarmSteps+redisFrozenSteps && s < len(res.CallsTimeline); s++ {
		res.DBOutageCalls += res.CallsTimeline[s]
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
	steps := max(expirySteps, outageSteps+recoverySteps, redisOutageSteps)
	return time.Duration(steps+2)*(2*o.timeout+time.Duration(o.keys)*o.dbLatency/time.Duration(o.dbPool)) +
		expiredAfter + 10*time.Second
}

// sortedCopy returns the latencies sorted.
func sortedCopy(l []time.Duration) []time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s
}
