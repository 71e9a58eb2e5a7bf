package observability_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/observability"
	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// Every test of this package runs under goleak.
func TestMain(m *testing.M) { testutil.VerifyNone(m) }

// clock is a fake clock that a query moves forward, so that the measured durations are exact. It is safe for
// concurrent use: the protector reads it from its background work too.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// db takes 30ms of the clock per query.
type db struct{ c *clock }

func (d db) Load(_ context.Context, key string) (*day45.Data, error) {
	d.c.ns.Add(int64(30 * time.Millisecond))
	return &day45.Data{Key: key, Value: "v", Version: 1}, nil
}

// A reference protector behind a Collector: the exported numbers are the protector's own.
func TestCollector_OfAReferenceProtector(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	c := newClock()
	cfg := day45.DefaultConfig()
	cfg.Now = c.Now
	p, err := day45.NewThunderingHerdProtector(client, db{c}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })

	for _, key := range []string{"a", "b", "c"} {
		_, err := p.Get(context.Background(), key)
		require.NoError(t, err)
	}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(observability.NewCollector(p, nil)))
	want := `
# HELP thundering_herd_db_queries_total Database queries (DataRepository.Load calls).
# TYPE thundering_herd_db_queries_total counter
thundering_herd_db_queries_total 3
# HELP thundering_herd_db_query_duration_seconds Duration of each database query, failed ones included.
# TYPE thundering_herd_db_query_duration_seconds histogram
thundering_herd_db_query_duration_seconds_bucket{le="0.001"} 0
thundering_herd_db_query_duration_seconds_bucket{le="0.0025"} 0
thundering_herd_db_query_duration_seconds_bucket{le="0.005"} 0
thundering_herd_db_query_duration_seconds_bucket{le="0.01"} 0
thundering_herd_db_query_duration_seconds_bucket{le="0.025"} 0
thundering_herd_db_query_duration_seconds_bucket{le="0.05"} 3
thundering_herd_db_query_duration_seconds_bucket{le="0.1"} 3
thundering_herd_db_query_duration_seconds_bucket{le="0.25"} 3
thundering_herd_db_query_duration_seconds_bucket{le="0.5"} 3
thundering_herd_db_query_duration_seconds_bucket{le="1"} 3
thundering_herd_db_query_duration_seconds_bucket{le="2.5"} 3
thundering_herd_db_query_duration_seconds_bucket{le="5"} 3
thundering_herd_db_query_duration_seconds_bucket{le="+Inf"} 3
thundering_herd_db_query_duration_seconds_sum 0.09
thundering_herd_db_query_duration_seconds_count 3
`
	assert.NoError(t, promtest.GatherAndCompare(reg, strings.NewReader(want),
		"thundering_herd_db_queries_total", "thundering_herd_db_query_duration_seconds"))
}
