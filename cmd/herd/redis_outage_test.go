package main

import (
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "day45-thundering-herd/solutions/day45"
)

// referenceProbe creates the reference's processes as the simulator does and keeps them, so that a test can read
// their metrics after every step of redis-outage (the simulator itself never does).
type referenceProbe struct {
	mu    sync.Mutex
	procs []*reference.ThunderingHerdProtector
	steps []reference.ProtectionMetrics // the sum over the processes after each step
}

func (rp *referenceProbe) newImpl(k implKind, c redis.UniversalClient, db loader, cfg implConfig) (cacheImpl, error) {
	impl, err := newImpl(k, c, db, cfg)
	if pi, ok := impl.(protectorImpl[reference.Data]); ok {
		rp.mu.Lock()
		rp.procs = append(rp.procs, pi.p.(*reference.ThunderingHerdProtector))
		rp.mu.Unlock()
	}
	return impl, err
}

func (rp *referenceProbe) afterStep(int) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var sum reference.ProtectionMetrics
	for _, p := range rp.procs {
		m := p.GetMetrics()
		sum.CacheHits += m.CacheHits
		sum.CacheMisses += m.CacheMisses
		sum.LockWaits += m.LockWaits
		sum.CacheSkips += m.CacheSkips
		sum.CacheErrors += m.CacheErrors
		sum.DBQueries += m.DBQueries
		sum.CacheBreakerTrips += m.CacheBreakerTrips
	}
	rp.steps = append(rp.steps, sum)
}

// delta is what step s added to the metrics.
func (rp *referenceProbe) delta(s int) reference.ProtectionMetrics {
	d := rp.steps[s]
	if s > 0 {
		p := rp.steps[s-1]
		d.CacheHits -= p.CacheHits
		d.CacheMisses -= p.CacheMisses
		d.LockWaits -= p.LockWaits
		d.CacheSkips -= p.CacheSkips
		d.CacheErrors -= p.CacheErrors
		d.DBQueries -= p.DBQueries
		d.CacheBreakerTrips -= p.CacheBreakerTrips
	}
	return d
}

func TestRedisOutageReference(t *testing.T) {
	t.Parallel()
	o := smallOptions("redis-outage", implReference)
	o.procs, o.clients = 4, 50
	probe := &referenceProbe{}
	o.newImpl, o.stepHook = probe.newImpl, probe.afterStep
	started := time.Now()
	ref := simulateOne(t, o)[implReference]
	took := time.Since(started)
	perStep := int64(o.procs * o.clients)
	checkAccounting(t, ref, redisOutageSteps*perStep)
	require.Len(t, probe.steps, redisOutageSteps, "metrics after each step")
	for s := range probe.steps {
		t.Logf("step %d: %+v", s, probe.delta(s))
	}

	// Every request answered with the current version, Redis frozen or not: no error, nothing stale.
	assert.Equal(t, ref.Requests, ref.Answered, "reference: %d of %d answered fresh (stale %d, errors %v)",
		ref.Answered, ref.Requests, ref.Stale, ref.ErrorKinds)
	// At most one DB query per process per cache cool-down while Redis is frozen.
	cooldowns := int64((redisFrozenSteps*redisStep + reference.DefaultConfig().CacheBreakerTimeout - 1) /
		reference.DefaultConfig().CacheBreakerTimeout)
	assert.LessOrEqual(t, ref.DBOutageCalls, int64(o.procs)*cooldowns,
		"reference: %d DB queries in the %v freeze, want at most one per process (%d) per cool-down (%d); calls per step %v",
		ref.DBOutageCalls, redisFrozenSteps*redisStep, o.procs, cooldowns, ref.CallsTimeline)
	assert.Positive(t, ref.DBOutageCalls, "reference: the key expired during the freeze: it must have been loaded")
	// A frozen Redis costs a caller at most the lookup's and the lock's budgets and a load, not the request deadline.
	if assert.NotNil(t, ref.FrozenLatencyMs) {
		bound := ms(2*reference.DefaultConfig().CacheTimeout + o.dbLatency + 500*time.Millisecond)
		assert.Less(t, ref.FrozenLatencyMs.Max, bound, "reference: a caller waited %vms while Redis was frozen, want < %vms",
			ref.FrozenLatencyMs.Max, bound)
	}

	// Healthy before the freeze: every Get a cache hit. Healed: the last step is served by Redis again, without a
	// skipped or failed Redis call and without the database. A caller may still miss there and wait on the lock of
	// a write-back that lands at that moment (seen once on a loaded machine): Redis serves it all the same.
	warm := probe.delta(0)
	assert.Equal(t, perStep, warm.CacheHits, "before the freeze: %+v, want %d cache hits", warm, perStep)
	last := probe.delta(redisOutageSteps - 1)
	lastMsg := []any{"last step after the heal: %+v, want %d Gets served by Redis and nothing else", last, perStep}
	assert.Equal(t, perStep, last.CacheHits+last.CacheMisses, lastMsg...)
	assert.Zero(t, last.CacheSkips, lastMsg...)
	assert.Zero(t, last.CacheErrors, lastMsg...)
	assert.Zero(t, last.DBQueries, lastMsg...)
	assert.Zero(t, ref.CallsTimeline[redisOutageSteps-1], lastMsg...)
	if assert.NotNil(t, ref.RecoveryMs) {
		assert.GreaterOrEqual(t, *ref.RecoveryMs, 0.0, "reference: recovery %v, want within the scenario", *ref.RecoveryMs)
	}
	trips := probe.steps[len(probe.steps)-1].CacheBreakerTrips
	assert.GreaterOrEqual(t, trips, int64(o.procs), "reference: %d cache breaker trips, want each process's to open", trips)
	t.Logf("took %v", took)
}

func TestRedisOutageNoProtectionIsBoundedByTheDeadline(t *testing.T) {
	o := smallOptions("redis-outage", implNone)
	o.clients, o.timeout = 10, 300*time.Millisecond
	started := time.Now()
	none := simulateOne(t, o)[implNone]
	took := time.Since(started)
	perStep := int64(o.procs * o.clients)
	checkAccounting(t, none, redisOutageSteps*perStep)
	frozen := int64(redisFrozenSteps) * perStep
	msg := []any{"no protection: errors %v, status %s; want every request of the %d frozen steps cut by its deadline",
		none.ErrorKinds, none.Status, redisFrozenSteps}
	assert.Equal(t, statusOK, none.Status, msg...)
	assert.GreaterOrEqual(t, none.ErrorKinds["deadline"], frozen, msg...)
	if assert.NotNil(t, none.FrozenLatencyMs) {
		f := none.FrozenLatencyMs
		assert.GreaterOrEqual(t, f.P50, ms(o.timeout), "no protection: frozen latency %+v, want callers held to the deadline", *f)
		assert.Less(t, f.Max, ms(o.timeout+time.Second), "no protection: frozen latency %+v, want bounded by the %v deadline", *f, o.timeout)
	}
	// Before the freeze and after the heal the cache answers again.
	assert.Equal(t, redisOutageSteps*perStep-frozen, none.Answered, "no protection: %d answered, want every request outside the freeze", none.Answered)
	assert.Less(t, took, time.Duration(redisOutageSteps)*o.timeout+5*time.Second, "the scenario took %v", took)
}
