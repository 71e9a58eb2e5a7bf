// Package observability exports a protector of the reference (solutions/day45) to Prometheus, step 10's other
// half: a Collector of its counters and of the histogram of its database queries, the alert rules that read them
// (alerts.yml) and a Grafana dashboard (dashboard.json). It lives apart from the protector so that only a program
// that serves metrics links client_golang. Its tests read the rules and the dashboard's queries with Prometheus's own
// rule loader and PromQL parser (github.com/prometheus/prometheus, a test-only dependency): promtool's check, in go test.
package observability

import (
	"github.com/prometheus/client_golang/prometheus"

	day45 "day45-thundering-herd/solutions/day45"
)

// Namespace prefixes every metric name.
const Namespace = "thundering_herd"

// Source is what a Collector reads: a *day45.ThunderingHerdProtector.
type Source interface {
	GetMetrics() day45.ProtectionMetrics
	QueryDurations() day45.HistogramSnapshot
}

// counter is one ProtectionMetrics field exported as a Prometheus counter.
type counter struct {
	name, help string
	value      func(day45.ProtectionMetrics) int64
}

// counters are the exported fields, each a counter since the protector was created.
var counters = []counter{
	{"requests_total", "Admitted Get and GetStaleWhileRevalidate calls.", func(m day45.ProtectionMetrics) int64 { return m.TotalRequests }},
	{"cache_hits_total", "Calls answered by a fresh cached value.", func(m day45.ProtectionMetrics) int64 { return m.CacheHits }},
	{"cache_misses_total", "Calls whose cached value was missing, stale, undecodable or unreadable.", func(m day45.ProtectionMetrics) int64 { return m.CacheMisses }},
	{"singleflight_shared_total", "Callers served by a load of this process that they did not run.", func(m day45.ProtectionMetrics) int64 { return m.SingleFlightHits }},
	{"lock_acquisitions_total", "Distributed locks taken to load a key.", func(m day45.ProtectionMetrics) int64 { return m.LockAcquisitions }},
	{"lock_waits_total", "Loads that waited for another process's lock holder.", func(m day45.ProtectionMetrics) int64 { return m.LockWaits }},
	{"stale_served_total", "Stale values served.", func(m day45.ProtectionMetrics) int64 { return m.StaleReturns }},
	{"background_refreshes_total", "Background refreshes started.", func(m day45.ProtectionMetrics) int64 { return m.BackgroundRefresh }},
	{"db_queries_total", "Database queries (DataRepository.Load calls).", func(m day45.ProtectionMetrics) int64 { return m.DBQueries }},
	{"db_errors_total", "Database queries that failed; not-found is an answer, not an error.", func(m day45.ProtectionMetrics) int64 { return m.DBErrors }},
	{"cache_errors_total", "Redis failures and undecodable entries.", func(m day45.ProtectionMetrics) int64 { return m.CacheErrors }},
	{"cache_skips_total", "Redis operations not attempted because the cache breaker was open.", func(m day45.ProtectionMetrics) int64 { return m.CacheSkips }},
	{"shed_total", "Callers refused by a cap (ErrOverloaded, or the stale value in its place).", func(m day45.ProtectionMetrics) int64 { return m.Shed }},
}

// Collector is a prometheus.Collector of one protector. Each scrape takes one snapshot of the protector (a few
// atomic loads); the protector does no work for Prometheus between scrapes. Register one Collector per protector,
// told apart by constant labels (a cache name, say) when a process has several.
type Collector struct {
	src      Source
	counters []*prometheus.Desc // in the order of counters
	trips    *prometheus.Desc   // breaker="database" or "cache"
	queries  *prometheus.Desc
}

// NewCollector returns a Collector of src, whose metrics carry the constant labels given (nil for none).
func NewCollector(src Source, labels prometheus.Labels) *Collector {
	c := &Collector{
		src: src,
		trips: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "breaker_trips_total"),
			"Transitions of a circuit breaker to open: breaker is database or cache.", []string{"breaker"}, labels),
		queries: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "db_query_duration_seconds"),
			"Duration of each database query, failed ones included.", nil, labels),
	}
	for _, m := range counters {
		c.counters = append(c.counters, prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", m.name), m.help, nil, labels))
	}
	return c
}

// Describe sends the descriptions of every metric of the Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	ch <- c.trips
	ch <- c.queries
}

// Collect sends one snapshot of the protector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.src.GetMetrics()
	for i, d := range c.counters {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(counters[i].value(m)))
	}
	ch <- prometheus.MustNewConstMetric(c.trips, prometheus.CounterValue, float64(m.CircuitBreakerTrips), "database")
	ch <- prometheus.MustNewConstMetric(c.trips, prometheus.CounterValue, float64(m.CacheBreakerTrips), "cache")
	ch <- histogram(c.queries, c.src.QueryDurations())
}

// histogram turns a snapshot into a Prometheus histogram in seconds. Both count buckets cumulatively, and both
// leave +Inf to the count.
func histogram(d *prometheus.Desc, s day45.HistogramSnapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(s.Buckets))
	for _, b := range s.Buckets {
		buckets[b.UpperBound.Seconds()] = b.Count
	}
	return prometheus.MustNewConstHistogram(d, s.Count, s.Sum.Seconds(), buckets)
}
