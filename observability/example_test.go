package observability_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"day45-thundering-herd/observability"
	day45 "day45-thundering-herd/solutions/day45"
)

// A protector's metrics on /metrics: one Collector per protector, registered on the registry that the handler
// serves. Here 100 Gets of one key: one miss, one 30ms query, 99 hits.
func ExampleNewCollector() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	c := newClock()
	cfg := day45.DefaultConfig()
	cfg.Now = c.Now
	p, _ := day45.NewThunderingHerdProtector(client, db{c}, cfg)
	defer p.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(observability.NewCollector(p, prometheus.Labels{"cache": "products"}))
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) // http.Handle("/metrics", metrics) in a server

	_, _ = p.Get(context.Background(), "product:1") // the miss: one query
	waitStored(mr, "product:1")                     // Get answers first, then stores the value
	for range 99 {
		_, _ = p.Get(context.Background(), "product:1") // hits
	}
	scrape := httptest.NewRecorder()
	metrics.ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for sc := bufio.NewScanner(scrape.Body); sc.Scan(); {
		line := sc.Text()
		for _, name := range []string{"requests_total", "cache_hits_total", "db_queries_total", "le=\"0.025\"", "le=\"0.05\"", "seconds_sum"} {
			if strings.Contains(line, name) && !strings.HasPrefix(line, "#") {
				fmt.Println(line)
			}
		}
	}
	// Output:
	// thundering_herd_cache_hits_total{cache="products"} 99
	// thundering_herd_db_queries_total{cache="products"} 1
	// thundering_herd_db_query_duration_seconds_bucket{cache="products",le="0.025"} 0
	// thundering_herd_db_query_duration_seconds_bucket{cache="products",le="0.05"} 1
	// thundering_herd_db_query_duration_seconds_sum{cache="products"} 0.03
	// thundering_herd_requests_total{cache="products"} 100
}

// waitStored waits, at most a few seconds, until key is in miniredis.
func waitStored(mr *miniredis.Miniredis, key string) {
	for deadline := time.Now().Add(5 * time.Second); !mr.Exists(key) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}
