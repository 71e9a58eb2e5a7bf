//go:build solution

package day45_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmarks of the reference. The one that matters is the hit path against its floor:
//
//	BenchmarkGetHit         ThunderingHerdProtector.Get of a fresh cached value
//	BenchmarkPlainGetDecode go-redis GET + json.Unmarshal of the same Data: what any cache read costs
//
// Both run on the same kind of server and the same kind of client (go-redis defaults), so the difference is what the
// protector adds: admission, the freshness envelope and the metrics. By default the server is an embedded miniredis;
// with REDIS_ADDR=host:port they run against that real server, in logical database 15, flushed before and after.
// bench/README.md at the repository root has the commands and the figures.
//
// There is no TestMain here: the package's TestMain (goleak) runs these too, so a benchmark that leaks a goroutine
// fails the run.

// benchKey is the cached key; Get reads it through the envelope, the floor reads benchPlainKey.
const (
	benchKey     = "bench:user:12345"
	benchLockKey = "bench:lock"
	// benchDB is the logical database of a real server the benchmarks use (REDIS_ADDR).
	benchDB = 15
)

// benchPlainKey is where the floor keeps the same Data as plain JSON. It is a variable, not a constant, like the key
// of any real cache read: go-redis boxes the key into an interface, which allocates for a run-time string and not
// for a constant, and the floor must not be spared that allocation when the protector is not.
var benchPlainKey = "bench:plain:user:12345"

// benchData is a realistic cached value: about 200 bytes of JSON.
func benchData() *day45.Data {
	return &day45.Data{
		Key:       benchKey,
		Value:     `{"name":"Hanako Yamada","plan":"premium","region":"ap-northeast-1","quota":1048576,"flags":["beta","sso"]}`,
		Version:   42,
		UpdatedAt: time.Date(2025, 11, 29, 4, 23, 0, 123456789, time.UTC),
	}
}

// benchClient returns a go-redis client with default options on a fresh server: an embedded miniredis, or database
// 15 of REDIS_ADDR, flushed. Everything is closed, and a real database flushed again, when the benchmark ends.
func benchClient(b *testing.B, kind clientKind) *redis.Client {
	b.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		mr := miniredis.NewMiniRedis()
		require.NoError(b, mr.Start(), "starting miniredis")
		b.Cleanup(mr.Close) // registered first, so it runs after the client has closed
		c := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: kind.deadlines})
		b.Cleanup(func() { _ = c.Close() })
		return c
	}

	reserveBenchDB(b, addr)
	c := redis.NewClient(&redis.Options{Addr: addr, DB: benchDB, ContextTimeoutEnabled: kind.deadlines})
	b.Cleanup(func() { _ = c.Close() })
	flush := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(b, c.FlushDB(ctx).Err(), "FLUSHDB of %s db %d", addr, benchDB)
	}
	b.Cleanup(flush)
	flush()
	return c
}

// reserveBenchDB takes database 15 of addr the way testutil reserves its databases (a SET NX key in database 0), so
// that a benchmark never flushes a database that a test running in parallel against the same server is using. It
// waits up to 30s for a test to give the database back.
func reserveBenchDB(b *testing.B, addr string) {
	b.Helper()
	admin := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { _ = admin.Close() })
	const releaseLua = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`
	key, token := "testutil:db:15", "bench-"+time.Now().Format(time.RFC3339Nano)
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ok, err := admin.SetNX(ctx, key, token, 10*time.Minute).Result()
		require.NoError(b, err, "reserving db %d on Redis %s (REDIS_ADDR)", benchDB, addr)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			require.Failf(b, "benchmark database not free",
				"db %d of Redis %s stays reserved by a test (%s in db 0): run the benchmarks alone", benchDB, addr, key)
		}
	}
	b.Cleanup(func() { _ = admin.Eval(ctx, releaseLua, []string{key}, token).Err() })
}

// benchRepo is the database behind the protector. The hit benchmarks must never reach it.
type benchRepo struct{ d *day45.Data }

func (r benchRepo) Load(context.Context, string) (*day45.Data, error) { return r.d, nil }

// hitProtector returns a protector (default Config) whose cache holds benchKey, fresh for an hour, and checks that a
// Get of it is a cache hit, so that the timed loop measures the hit path and nothing else.
func hitProtector(b *testing.B, kind clientKind) *day45.ThunderingHerdProtector {
	b.Helper()
	want := benchData()
	p, err := day45.NewThunderingHerdProtector(benchClient(b, kind), benchRepo{want}, day45.DefaultConfig())
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Close() }) // runs before the client's Close: cleanups are last-in, first-out
	ctx := context.Background()
	require.NoError(b, p.Set(ctx, benchKey, want, time.Hour), "Set")
	d, err := p.Get(ctx, benchKey)
	require.NoError(b, err, "first Get")
	m := p.GetMetrics()
	require.Equal(b, int64(1), m.CacheHits, "first Get was not a cache hit: %+v", m)
	require.Zero(b, m.CacheMisses, "first Get was not a cache hit: %+v", m)
	require.Zero(b, m.DBQueries, "first Get was not a cache hit: %+v", m)
	require.Equal(b, want, d, "first Get")
	return p
}

// checkAllHits fails the benchmark unless every Get of it was a hit.
func checkAllHits(b *testing.B, p *day45.ThunderingHerdProtector) {
	b.Helper()
	if m := p.GetMetrics(); m.CacheMisses != 0 || m.DBQueries != 0 || m.CacheErrors != 0 {
		b.Fatalf("the hit benchmark left the hit path: %+v", m)
	}
}

// plainClient returns a client whose server holds the JSON of benchData under benchPlainKey, for an hour.
func plainClient(b *testing.B, kind clientKind) *redis.Client {
	b.Helper()
	c := benchClient(b, kind)
	raw, err := json.Marshal(benchData())
	require.NoError(b, err)
	require.NoError(b, c.Set(context.Background(), benchPlainKey, raw, time.Hour).Err(), "SET")
	_, err = plainGet(context.Background(), c)
	require.NoError(b, err, "first GET")
	return c
}

// plainGet is the floor: one GET and a decode into a new Data, as any read-through cache must do.
func plainGet(ctx context.Context, c *redis.Client) (*day45.Data, error) {
	raw, err := c.Get(ctx, benchPlainKey).Bytes()
	if err != nil {
		return nil, err
	}
	d := new(day45.Data)
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, err
	}
	return d, nil
}

// forEachClient runs bench once per client kind, as sub-benchmarks client=default and client=deadlines: the
// protector bounds a default client's calls on goroutines of its own, and runs a deadline-honouring client's inline.
func forEachClient(b *testing.B, bench func(*testing.B, clientKind)) {
	for _, kind := range []struct {
		name string
		clientKind
	}{{"client=default", defaultClient}, {"client=deadlines", deadlineClient}} {
		b.Run(kind.name, func(b *testing.B) { bench(b, kind.clientKind) })
	}
}

func BenchmarkGetHit(b *testing.B) {
	forEachClient(b, func(b *testing.B, kind clientKind) {
		p := hitProtector(b, kind)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Get(ctx, benchKey); err != nil {
				b.Fatal(err)
			}
		}
		checkAllHits(b, p)
	})
}

func BenchmarkPlainGetDecode(b *testing.B) {
	forEachClient(b, func(b *testing.B, kind clientKind) {
		c := plainClient(b, kind)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := plainGet(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetHitParallel(b *testing.B) {
	forEachClient(b, func(b *testing.B, kind clientKind) {
		p := hitProtector(b, kind)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.Get(ctx, benchKey); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		checkAllHits(b, p)
	})
}

func BenchmarkPlainGetDecodeParallel(b *testing.B) {
	forEachClient(b, func(b *testing.B, kind clientKind) {
		c := plainClient(b, kind)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := plainGet(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// benchResult keeps the breaker's result alive, so that the compiler cannot drop the call.
var benchResult any

func BenchmarkBreakerCallClosed(b *testing.B) {
	value := benchData()
	fn := func() (any, error) { return value, nil }
	b.Run("serial", func(b *testing.B) {
		cb := day45.NewCircuitBreaker(5, 10*time.Second, nil)
		b.ReportAllocs()
		var v any
		for b.Loop() {
			var err error
			if v, err = cb.Call(fn); err != nil {
				b.Fatal(err)
			}
		}
		benchResult = v
		if s := cb.State(); s != day45.Closed {
			b.Fatalf("breaker %v after only successes, want closed", s)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		cb := day45.NewCircuitBreaker(5, 10*time.Second, nil)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Call(fn); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		if s := cb.State(); s != day45.Closed {
			b.Fatalf("breaker %v after only successes, want closed", s)
		}
	})
}

func BenchmarkLockAcquireRelease(b *testing.B) {
	c := benchClient(b, defaultClient)
	ctx := context.Background()
	// Warm the connection and the script cache (the first Release loads the Lua script), so that the loop measures
	// the steady state: one SET NX PX and one EVALSHA.
	warm := day45.NewDistributedLock(c, benchLockKey, 5*time.Second)
	require.NoError(b, warm.Acquire(ctx), "Acquire")
	require.NoError(b, warm.Release(ctx), "Release")
	b.ReportAllocs()
	for b.Loop() {
		l := day45.NewDistributedLock(c, benchLockKey, 5*time.Second)
		if err := l.Acquire(ctx); err != nil {
			b.Fatalf("Acquire: %v", err)
		}
		if err := l.Release(ctx); err != nil {
			b.Fatalf("Release: %v", err)
		}
	}
}

// benchDuration keeps AddJitter's result alive.
var benchDuration time.Duration

func BenchmarkAddJitter(b *testing.B) {
	b.ReportAllocs()
	var sum time.Duration
	for b.Loop() {
		sum += day45.AddJitter(5*time.Minute, 0.2)
	}
	benchDuration = sum
}
