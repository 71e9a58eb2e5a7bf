package main

import (
	"context"
	"time"
)

// scenario is one experiment, run once per implementation. Everything that sets one scenario apart from the others
// is a field here, so that a scenario is one file (scenario_*.go) and one line of scenarios.
type scenario struct {
	name  string                  // the -scenario value, and scenarios[].name in the JSON
	title func(o *options) string // the line above its table, with the run's numbers

	// The timeline. With realTime its buckets are slices of real time, o.bucketWidth() each, o.burstBuckets() of
	// them (a burst); otherwise there is one bucket per step of simulated time: steps buckets of step each.
	realTime bool
	steps    int
	step     time.Duration

	proxy    bool // the processes reach Redis through a faultproxy.Proxy, which the scenario freezes
	recovery bool // reports the time to recover: recovery_ms and the recovery column
	oneLoad  bool // the reference promises exactly one DB query: more is a violation
	bulkhead bool // the reference promises at most procs × bulkheadSize DB queries at once: more is a violation

	columns []column // the table's columns after the common ones
	run     func(ctx context.Context, r *runner) error
	finish  func(res *implResult, r *runner) // if set, fills the scenario's own fields of a result; r.mu is held
}

// column is a column of a scenario's table: its header and its cell in the row of r.
type column struct {
	header string
	cell   func(r implResult) string
}

// scenarios are every scenario, in run order.
var scenarios = []*scenario{hotKeyScenario, expiryScenario, outageScenario, swrScenario, redisOutageScenario, viralScenario}

// scenarioNames are the scenarios' names, in run order.
var scenarioNames = func() []string {
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	return names
}()

// scenarioByName returns the scenario called name, or nil.
func scenarioByName(name string) *scenario {
	for _, sc := range scenarios {
		if sc.name == name {
			return sc
		}
	}
	return nil
}

// buckets is the length of the scenario's timeline.
func (sc *scenario) buckets(o *options) int {
	if sc.realTime {
		return o.burstBuckets()
	}
	return sc.steps
}

// bucketWidth is the time of one bucket of the timeline: real time in a burst, simulated time otherwise.
func (sc *scenario) bucketWidth(o *options) time.Duration {
	if sc.realTime {
		return o.bucketWidth()
	}
	return sc.step
}

// bucketClock is bucket_clock in the JSON.
func (sc *scenario) bucketClock() string {
	if sc.realTime {
		return "real"
	}
	return "simulated"
}

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

// maxSteps is the most steps of any scenario.
func maxSteps() int {
	m := 0
	for _, sc := range scenarios {
		m = max(m, sc.steps)
	}
	return m
}

// recoveryColumn is the recovery column, of every scenario that reports recovery.
var recoveryColumn = column{"recovery", func(r implResult) string { return fmtRecovery(r.RecoveryMs) }}

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
