package observability_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/observability"
	day45 "day45-thundering-herd/solutions/day45"
)

// fixed is a Source with set numbers: every field of ProtectionMetrics a different value, so that a field exported
// under the wrong name shows.
type fixed struct {
	m day45.ProtectionMetrics
	h day45.HistogramSnapshot
}

func (f fixed) GetMetrics() day45.ProtectionMetrics     { return f.m }
func (f fixed) QueryDurations() day45.HistogramSnapshot { return f.h }

var sample = fixed{
	m: day45.ProtectionMetrics{
		TotalRequests: 1000, CacheHits: 900, CacheMisses: 100, SingleFlightHits: 90, LockAcquisitions: 7,
		LockWaits: 3, CircuitBreakerTrips: 2, StaleReturns: 11, BackgroundRefresh: 5, DBQueries: 10, DBErrors: 4,
		CacheErrors: 13, CacheBreakerTrips: 1, CacheSkips: 17, Shed: 19,
	},
	h: day45.HistogramSnapshot{
		Buckets: []day45.HistogramBucket{{UpperBound: 10 * time.Millisecond, Count: 6}, {UpperBound: 100 * time.Millisecond, Count: 9}},
		Count:   10,
		Sum:     3250 * time.Millisecond,
	},
}

func TestCollector_ExportsEveryField(t *testing.T) {
	c := observability.NewCollector(sample, prometheus.Labels{"cache": "products"})
	want := `
# HELP thundering_herd_background_refreshes_total Background refreshes started.
# TYPE thundering_herd_background_refreshes_total counter
thundering_herd_background_refreshes_total{cache="products"} 5
# HELP thundering_herd_breaker_trips_total Transitions of a circuit breaker to open: breaker is database or cache.
# TYPE thundering_herd_breaker_trips_total counter
thundering_herd_breaker_trips_total{breaker="cache",cache="products"} 1
thundering_herd_breaker_trips_total{breaker="database",cache="products"} 2
# HELP thundering_herd_cache_errors_total Redis failures and undecodable entries.
# TYPE thundering_herd_cache_errors_total counter
thundering_herd_cache_errors_total{cache="products"} 13
# HELP thundering_herd_cache_hits_total Calls answered by a fresh cached value.
# TYPE thundering_herd_cache_hits_total counter
thundering_herd_cache_hits_total{cache="products"} 900
# HELP thundering_herd_cache_misses_total Calls whose cached value was missing, stale, undecodable or unreadable.
# TYPE thundering_herd_cache_misses_total counter
thundering_herd_cache_misses_total{cache="products"} 100
# HELP thundering_herd_cache_skips_total Redis operations not attempted because the cache breaker was open.
# TYPE thundering_herd_cache_skips_total counter
thundering_herd_cache_skips_total{cache="products"} 17
# HELP thundering_herd_db_errors_total Database queries that failed; not-found is an answer, not an error.
# TYPE thundering_herd_db_errors_total counter
thundering_herd_db_errors_total{cache="products"} 4
# HELP thundering_herd_db_queries_total Database queries (DataRepository.Load calls).
# TYPE thundering_herd_db_queries_total counter
thundering_herd_db_queries_total{cache="products"} 10
# HELP thundering_herd_db_query_duration_seconds Duration of each database query, failed ones included.
# TYPE thundering_herd_db_query_duration_seconds histogram
thundering_herd_db_query_duration_seconds_bucket{cache="products",le="0.01"} 6
thundering_herd_db_query_duration_seconds_bucket{cache="products",le="0.1"} 9
thundering_herd_db_query_duration_seconds_bucket{cache="products",le="+Inf"} 10
thundering_herd_db_query_duration_seconds_sum{cache="products"} 3.25
thundering_herd_db_query_duration_seconds_count{cache="products"} 10
# HELP thundering_herd_lock_acquisitions_total Distributed locks taken to load a key.
# TYPE thundering_herd_lock_acquisitions_total counter
thundering_herd_lock_acquisitions_total{cache="products"} 7
# HELP thundering_herd_lock_waits_total Loads that waited for another process's lock holder.
# TYPE thundering_herd_lock_waits_total counter
thundering_herd_lock_waits_total{cache="products"} 3
# HELP thundering_herd_requests_total Admitted Get and GetStaleWhileRevalidate calls.
# TYPE thundering_herd_requests_total counter
thundering_herd_requests_total{cache="products"} 1000
# HELP thundering_herd_shed_total Callers refused by a cap (ErrOverloaded, or the stale value in its place).
# TYPE thundering_herd_shed_total counter
thundering_herd_shed_total{cache="products"} 19
# HELP thundering_herd_singleflight_shared_total Callers served by a load of this process that they did not run.
# TYPE thundering_herd_singleflight_shared_total counter
thundering_herd_singleflight_shared_total{cache="products"} 90
# HELP thundering_herd_stale_served_total Stale values served.
# TYPE thundering_herd_stale_served_total counter
thundering_herd_stale_served_total{cache="products"} 11
`
	require.NoError(t, promtest.CollectAndCompare(c, strings.NewReader(want)))
}

func TestCollector_FollowsPrometheusNamingRules(t *testing.T) {
	problems, err := promtest.CollectAndLint(observability.NewCollector(sample, nil))
	require.NoError(t, err)
	assert.Empty(t, problems, "promlint")
}

// Two protectors of one process register side by side, told apart by a constant label; the same label twice is
// refused, as it would make two series of one name.
func TestCollector_OnePerProtector(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(observability.NewCollector(sample, prometheus.Labels{"cache": "products"})))
	require.NoError(t, reg.Register(observability.NewCollector(sample, prometheus.Labels{"cache": "users"})))
	assert.Error(t, reg.Register(observability.NewCollector(sample, prometheus.Labels{"cache": "users"})))
	n, err := promtest.GatherAndCount(reg, "thundering_herd_requests_total")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
