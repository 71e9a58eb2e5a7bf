package day45

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// Observability (step 10): the time of each database query, in a histogram. Counters say how many queries a herd
// sent; only the distribution of their durations says what the herd did to the database (a p99 that climbs from
// 10ms to the LoadTimeout while the mean barely moves). The protector does not pick a metrics system: the
// histogram is a few atomics, and package observability exports it, with GetMetrics, to Prometheus. That is also
// why it is written here and not taken from client_golang: the protector stays free of any exporter.

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
	bounds []time.Duration // strictly increasing
	counts []atomic.Uint64 // counts[i]: observations in (bounds[i-1], bounds[i]]; not cumulative
	count  atomic.Uint64   // every observation: Prometheus's +Inf bucket
	sum    atomic.Int64    // nanoseconds
}

// NewHistogram returns a histogram with the given upper bounds. It panics unless they are positive and strictly
// increasing (prometheus.NewHistogram panics on bounds out of order too): bounds are a programming choice, not an
// input. The histogram keeps its own copy of bounds.
func NewHistogram(bounds ...time.Duration) *Histogram {
	if !validBounds(bounds) {
		panic(fmt.Sprintf("day45: histogram bounds must be positive and strictly increasing, got %v", bounds))
	}
	return &Histogram{bounds: slices.Clone(bounds), counts: make([]atomic.Uint64, len(bounds))}
}

// Observe counts d. Count goes first: Snapshot reads the buckets first, so that no bucket it reports can hold an
// observation that its Count does not (a cumulative bucket above +Inf would be an invalid Prometheus histogram).
func (h *Histogram) Observe(d time.Duration) {
	h.count.Add(1)
	if i, _ := slices.BinarySearch(h.bounds, d); i < len(h.bounds) { // the first bound >= d
		h.counts[i].Add(1)
	}
	h.sum.Add(int64(d))
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

// Snapshot returns the counts so far. While observations run, Sum may lag Count by the ones in progress; a bucket
// never holds more than Count.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Buckets: make([]HistogramBucket, len(h.bounds))}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		s.Buckets[i] = HistogramBucket{UpperBound: h.bounds[i], Count: cum}
	}
	s.Count = h.count.Load()
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// QueryDurations returns the histogram of DataRepository.Load calls: one observation per call, failed and timed-out
// ones included, measured on Config.Now. It keeps working after Close.
func (p *ThunderingHerdProtector) QueryDurations() HistogramSnapshot { return p.queryTimes.Snapshot() }
