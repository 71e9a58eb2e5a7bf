package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// record is the value that the fake database serves and the simulator checks. It has the fields of day45.Data, so
// that each adapter converts between the two with a plain type conversion.
type record struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

var (
	// errDBDown is what every query gets while the database is down: a refused connection, at once.
	errDBDown = errors.New("fakedb: connection refused (database down)")
	// errNoSuchKey answers a key the scenario never created. The adapters map it to their package's ErrNotFound.
	errNoSuchKey = errors.New("fakedb: no such key")
)

// fakeDB is the database behind every implementation of one run. Everything the report says about database load
// comes from its own counters, never from a protector's metrics.
//
// A query takes one connection from a bounded pool for latency. Callers beyond the pool queue for a connection, as
// with database/sql, until their context ends: then the query fails without having run. While the database is
// down, queries fail at once without taking a connection.
type fakeDB struct {
	latency time.Duration
	now     func() time.Time
	pool    *semaphore.Weighted // a unit per connection; waiters queue in order, until their ctx ends

	mu       sync.Mutex
	versions map[string]int64 // the current version of each key; the data changes when it grows

	down atomic.Bool

	queries      atomic.Int64 // Load calls
	outageCalls  atomic.Int64 // Load calls while down
	poolTimeouts atomic.Int64 // Load calls whose context ended while queued for a connection
	cancelled    atomic.Int64 // Load calls whose context ended while the query ran
	inflight     atomic.Int64 // Load calls in progress: queued or running
	peakInflight atomic.Int64
	active       atomic.Int64 // Load calls holding a connection
	peakActive   atomic.Int64

	timeline timeline
}

func newFakeDB(latency time.Duration, poolSize int, now func() time.Time, buckets int) *fakeDB {
	return &fakeDB{
		latency:  latency,
		now:      now,
		pool:     semaphore.NewWeighted(int64(poolSize)),
		versions: map[string]int64{},
		timeline: newTimeline(buckets),
	}
}

// Load answers key with its current version after the latency, holding one connection of the pool meanwhile.
func (db *fakeDB) Load(ctx context.Context, key string) (record, error) {
	db.queries.Add(1)
	db.timeline.call()
	raise(&db.peakInflight, db.inflight.Add(1))
	defer db.inflight.Add(-1)

	if db.down.Load() {
		db.timeline.handle() // the database handled it: it refused it
		db.outageCalls.Add(1)
		return record{}, errDBDown
	}
	queued := time.Now()
	gaveUp := func() (record, error) {
		db.poolTimeouts.Add(1)
		return record{}, fmt.Errorf("fakedb: no free connection after %v in the queue: %w",
			time.Since(queued).Round(time.Millisecond), ctx.Err())
	}
	// Acquire fails at once if ctx has already ended, even with a free connection, as a real pool does.
	if err := db.pool.Acquire(ctx, 1); err != nil {
		return gaveUp()
	}
	defer db.pool.Release(1)
	raise(&db.peakActive, db.active.Add(1))
	defer db.active.Add(-1)

	if db.latency > 0 {
		t := time.NewTimer(db.latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			db.cancelled.Add(1)
			return record{}, fmt.Errorf("fakedb: query cancelled: %w", ctx.Err())
		}
	}
	db.timeline.handle() // the database did the work
	db.mu.Lock()
	v, ok := db.versions[key]
	db.mu.Unlock()
	if !ok {
		return record{}, fmt.Errorf("%w: %q", errNoSuchKey, key)
	}
	return record{Key: key, Value: valueOf(key, v), Version: v, UpdatedAt: db.now()}, nil
}

// valueOf is the value of key at version v, so that a wrong answer is visible in the value too.
func valueOf(key string, v int64) string { return fmt.Sprintf("%s@v%d", key, v) }

// create gives each key version 1 and returns the records, for the scenario to write into the cache.
func (db *fakeDB) create(keys []string) []record {
	db.mu.Lock()
	defer db.mu.Unlock()
	recs := make([]record, len(keys))
	for i, k := range keys {
		db.versions[k] = 1
		recs[i] = record{Key: k, Value: valueOf(k, 1), Version: 1, UpdatedAt: db.now()}
	}
	return recs
}

// update moves keys to their next version: the data changed, so a cached copy of the old version is now stale.
func (db *fakeDB) update(keys ...string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, k := range keys {
		db.versions[k]++
	}
}

// version returns the current version of key, 0 if it does not exist.
func (db *fakeDB) version(key string) int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.versions[key]
}

// setDown starts (true) or ends (false) an outage.
func (db *fakeDB) setDown(down bool) { db.down.Store(down) }

// raise sets peak to v if v is larger.
func raise(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// timeline counts, per bucket, the queries the database was asked for (calls: the demand) and the ones it handled
// (handled: answered after the latency, or refused while down; not those whose caller gave up first). A bucket is a
// step of the scenario (setBucket) or a slice of real time (startClock); events past the last bucket count in it.
type timeline struct {
	calls, handled []atomic.Int64
	bucket         atomic.Int64 // the current step, when the buckets are steps

	mu    sync.Mutex
	start time.Time     // non-zero: buckets are slices of real time of width
	width time.Duration //
}

func newTimeline(n int) timeline {
	n = max(n, 1)
	return timeline{calls: make([]atomic.Int64, n), handled: make([]atomic.Int64, n)}
}

// setBucket makes later events count in bucket i.
func (t *timeline) setBucket(i int) { t.bucket.Store(int64(i)) }

// startClock makes later events count in the bucket of their real time since now, each bucket width long.
func (t *timeline) startClock(width time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start, t.width = time.Now(), width
}

func (t *timeline) call()   { t.add(t.calls) }
func (t *timeline) handle() { t.add(t.handled) }

func (t *timeline) add(counts []atomic.Int64) {
	t.mu.Lock()
	start, width := t.start, t.width
	t.mu.Unlock()
	i := t.bucket.Load()
	if !start.IsZero() {
		i = int64(time.Since(start) / width)
	}
	i = min(max(i, 0), int64(len(counts)-1))
	counts[i].Add(1)
}

func snapshot(counts []atomic.Int64) []int64 {
	out := make([]int64, len(counts))
	for i := range counts {
		out[i] = counts[i].Load()
	}
	return out
}
