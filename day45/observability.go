// Step 10 (advanced) — observability. Lesson: steps/10-observability/README.md
//
// Build the histogram of database query durations. protector.go times every DataRepository.Load call and calls
// Observe; QueryDurations hands a Snapshot to whoever exports it (package observability turns it into a Prometheus
// histogram). Until you do, every snapshot is empty: the dashboard of a herd shows no query at all, fast or slow.
//
// Check: go test ./steps/10-observability/

package day45

import (
	"fmt"
	"time"
)

// DefaultQueryBuckets returns the upper bounds of the query-duration histogram when Config.QueryBuckets is nil:
// from 1ms, a fast indexed query, to 5s, past the default LoadTimeout of 4s, so that a query that ran into its
// budget still lands in a bucket of its own.
func DefaultQueryBuckets() []time.Duration {
	return []time.Duration{
		time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
		25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
		500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
	}
}

// Histogram counts durations in buckets, as a Prometheus histogram does: each observation is counted in the first
// bucket whose upper bound it does not exceed (bounds are inclusive), and in Count and Sum, also when it exceeds
// every bound. It is safe for concurrent use and never blocks. The zero value is ready and has no finite bucket.
type Histogram struct {
	// TODO(step 10): the bounds (your own copy), one counter per bound (atomic.Uint64, not cumulative: an
	// observation adds to one bucket only), a counter of every observation and the sum in nanoseconds
	// (atomic.Int64). Observe runs on many goroutines at once: plain integers lose counts and fail -race.
}

// NewHistogram returns a histogram with the given upper bounds. It panics unless they are positive and strictly
// increasing (prometheus.NewHistogram panics on bounds out of order too): bounds are a programming choice, not an
// input. The histogram keeps its own copy of bounds.
func NewHistogram(bounds ...time.Duration) *Histogram {
	if !validBounds(bounds) {
		panic(fmt.Sprintf("day45: histogram bounds must be positive and strictly increasing, got %v", bounds))
	}
	// TODO(step 10): keep a copy of bounds (slices.Clone): the caller may reuse its slice. Make the counters.
	return &Histogram{}
}

// Observe counts d.
func (h *Histogram) Observe(d time.Duration) {
	// TODO(step 10): add one to the count of every observation, then to the first bucket whose bound is >= d
	// (slices.BinarySearch finds it; an observation exactly on a bound belongs to that bound's bucket), if any: a
	// query slower than every bound is in no bucket, but it is in Count and Sum. Add d to the sum.
	_ = d
}

// HistogramSnapshot is a histogram at one moment, in Prometheus's shape: cumulative buckets of finite upper bounds,
// and Count, which is the +Inf bucket.
type HistogramSnapshot struct {
	Buckets []HistogramBucket // ascending upper bounds
	Count   uint64            // every observation, those above the last bound included
	Sum     time.Duration     // of every observation
}

// HistogramBucket is one cumulative bucket: Count observations were at most UpperBound.
type HistogramBucket struct {
	UpperBound time.Duration
	Count      uint64
}

// Snapshot returns the counts so far.
func (h *Histogram) Snapshot() HistogramSnapshot {
	// TODO(step 10): one HistogramBucket per bound, each counting the observations up to its bound (a running
	// total of the bucket counters: Prometheus buckets are cumulative). Read the buckets before Count, and Observe
	// adds to Count before its bucket: then no bucket can report more than Count, even while Observe runs.
	return HistogramSnapshot{}
}

// QueryDurations returns the histogram of DataRepository.Load calls: one observation per call, failed and timed-out
// ones included, measured on Config.Now. It keeps working after Close.
func (p *ThunderingHerdProtector) QueryDurations() HistogramSnapshot { return p.queryTimes.Snapshot() }
