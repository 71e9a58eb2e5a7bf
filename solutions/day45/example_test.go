//go:build solution

package day45_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	day45 "day45-thundering-herd/solutions/day45"
)

// products is a DataRepository: the database behind the cache.
type products map[string]string

func (p products) Load(_ context.Context, key string) (*day45.Data, error) {
	v, ok := p[key]
	if !ok {
		return nil, fmt.Errorf("product %q: %w", key, day45.ErrNotFound)
	}
	return &day45.Data{Key: key, Value: v, Version: 1}, nil
}

// A protector in front of a database: the first Get loads through singleflight and the lock, the second is a hit.
func ExampleNewThunderingHerdProtector() {
	mr, err := miniredis.Run() // any Redis; this one is embedded
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()

	p, err := day45.NewThunderingHerdProtector(client, products{"sku-1": "coffee"}, day45.DefaultConfig())
	if err != nil {
		panic(err)
	}
	defer p.Close() // waits for the write-back of the first Get

	ctx := context.Background()
	for range 2 {
		d, err := p.Get(ctx, "sku-1")
		if err != nil {
			panic(err)
		}
		fmt.Println(d.Value)
	}
	_, err = p.Get(ctx, "sku-404")
	fmt.Println(errors.Is(err, day45.ErrNotFound))
	m := p.GetMetrics()
	fmt.Printf("requests %d, DB queries %d\n", m.TotalRequests, m.DBQueries)
	// Output:
	// coffee
	// coffee
	// true
	// requests 3, DB queries 2
}

// A breaker opens after its threshold of consecutive failures and fails fast until its timeout has passed.
func ExampleCircuitBreaker() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cb := day45.NewCircuitBreaker(2, 10*time.Second, func() time.Time { return now })
	down := func() (any, error) { return nil, errors.New("db down") }
	for range 3 {
		_, err := cb.Call(down)
		fmt.Println(err, cb.State())
	}
	now = now.Add(10 * time.Second)
	fmt.Println(cb.State())
	// Output:
	// db down closed
	// db down open
	// day45: circuit breaker is open open
	// half-open
}

// AddJitter spreads TTLs written together over a window of ±percent.
func ExampleAddJitter() {
	ttl := day45.AddJitter(5*time.Minute, 0.2)
	fmt.Println(ttl >= 4*time.Minute && ttl <= 6*time.Minute)
	// Output: true
}

// A lock held by one owner; a second Acquire fails until the first releases.
func ExampleDistributedLock() {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	ctx := context.Background()

	a := day45.NewDistributedLock(client, "lock:sku-1", 5*time.Second)
	b := day45.NewDistributedLock(client, "lock:sku-1", 5*time.Second)
	fmt.Println(a.Acquire(ctx))
	fmt.Println(errors.Is(b.Acquire(ctx), day45.ErrLockNotAcquired))
	fmt.Println(a.Release(ctx))
	fmt.Println(b.Acquire(ctx))
	// Output:
	// <nil>
	// true
	// <nil>
	// <nil>
}

// getWithBackoff is how a caller retries a call that a cap refused: at most 3 retries, each after a random pause in
// [0, 50ms·2^n) capped at 1s ("full jitter"), so that the refused callers of one burst do not all come back at the
// same instant. Any other error is not retried: ErrNotFound is an answer, and the breaker already spaces the
// database's failures.
func getWithBackoff(ctx context.Context, p *day45.ThunderingHerdProtector, key string) (*day45.Data, error) {
	const base, ceiling, retries = 50 * time.Millisecond, time.Second, 3
	for n := 0; ; n++ {
		d, err := p.Get(ctx, key)
		if !errors.Is(err, day45.ErrOverloaded) || n == retries {
			return d, err
		}
		pause := time.NewTimer(rand.N(min(ceiling, base<<n)))
		select {
		case <-ctx.Done():
			pause.Stop()
			return nil, ctx.Err()
		case <-pause.C:
		}
	}
}

// A caller retries ErrOverloaded with exponential backoff and full jitter; the caps themselves are in Config.
func ExampleErrOverloaded() {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()

	cfg := day45.DefaultConfig()
	cfg.MaxConcurrentLoads = 16 // this process's share of the database's connection pool
	cfg.MaxWaitersPerKey = 1000
	p, err := day45.NewThunderingHerdProtector(client, products{"sku-1": "coffee"}, cfg)
	if err != nil {
		panic(err)
	}
	defer p.Close()

	d, err := getWithBackoff(context.Background(), p, "sku-1")
	fmt.Println(d.Value, err)
	// Output: coffee <nil>
}

// A histogram of durations, cumulative like Prometheus's: 10ms lands in the ≤10ms bucket (bounds are inclusive),
// and 3s, above every bound, is in Count and Sum only.
func ExampleNewHistogram() {
	h := day45.NewHistogram(10*time.Millisecond, 100*time.Millisecond)
	for _, d := range []time.Duration{4 * time.Millisecond, 10 * time.Millisecond, 60 * time.Millisecond, 3 * time.Second} {
		h.Observe(d)
	}
	s := h.Snapshot()
	for _, b := range s.Buckets {
		fmt.Printf("le=%v %d\n", b.UpperBound, b.Count)
	}
	fmt.Printf("le=+Inf %d, sum %v\n", s.Count, s.Sum)
	// Output:
	// le=10ms 2
	// le=100ms 3
	// le=+Inf 4, sum 3.074s
}
