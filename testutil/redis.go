package testutil

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Redis is one Redis server for one test: an embedded miniredis, or a logical database of a real server named by
// REDIS_ADDR that this test has reserved for itself.
type Redis struct {
	Addr    string
	Mini    *miniredis.Miniredis // nil on a real server
	DB      int
	Cluster []string // the seed addresses of a Redis Cluster (REDIS_CLUSTER_ADDRS); Addr is the first of them

	tb testing.TB
}

const (
	// reservationTTL bounds how long a crashed test binary can keep a logical database reserved.
	reservationTTL = 10 * time.Minute
	// reserveWait is how long StartRedis waits for a free logical database before failing the test.
	reserveWait = 30 * time.Second
	// reservePoll is how often StartRedis retries while every logical database is taken.
	reservePoll = 20 * time.Millisecond
	// netTimeout bounds every dial, read and write of the clients handed to tests, so a test fails instead of hanging.
	netTimeout = 2 * time.Second
)

// releaseLua deletes a reservation only if it is still ours: after a long pause it may have expired and been taken.
const releaseLua = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// StartRedis returns a Redis for t: the Redis Cluster of REDIS_CLUSTER_ADDRS if set, else StartServer.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if addrs := os.Getenv("REDIS_CLUSTER_ADDRS"); addrs != "" {
		return startCluster(t, strings.Split(addrs, ","))
	}
	return StartServer(t)
}

// startCluster uses the Redis Cluster whose seed addresses are addrs (comma-separated host:port in
// REDIS_CLUSTER_ADDRS), flushed on every master before the test and at cleanup. A cluster has one database only, so
// test binaries must not share it at once: run the suites on it with go test -p 1.
func startCluster(t testing.TB, addrs []string) *Redis {
	t.Helper()
	r := &Redis{Addr: addrs[0], Cluster: addrs, tb: t}
	c := r.Client(t)
	flush := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
		defer cancel()
		return flushAll(ctx, c)
	}
	if err := flush(); err != nil {
		t.Fatalf("testutil: flushing the Redis Cluster %v (REDIS_CLUSTER_ADDRS): %v", addrs, err)
	}
	t.Cleanup(func() {
		if err := flush(); err != nil {
			t.Errorf("testutil: flushing the Redis Cluster %v at cleanup: %v", addrs, err)
		}
	})
	return r
}

// flushAll empties c: every master of a cluster, or the selected database of a server.
func flushAll(ctx context.Context, c redis.UniversalClient) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushDB(ctx).Err() })
	}
	return c.FlushDB(ctx).Err()
}

// StartServer returns a single Redis server for t, never a cluster: tests that put a proxy in front of Redis need
// one address. With REDIS_ADDR set (host:port) it uses that real server and reserves one of its logical databases
// 1..15 for the test, because several test binaries run in parallel against one server; the database is flushed
// before use and at cleanup. Without REDIS_ADDR it starts an embedded miniredis.
func StartServer(t testing.TB) *Redis {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		return StartMiniredis(t)
	}
	admin := newClient(&redis.Options{
		Addr: addr, ContextTimeoutEnabled: true,
		DialTimeout: netTimeout, ReadTimeout: netTimeout, WriteTimeout: netTimeout,
	})
	t.Cleanup(func() { _ = admin.Close() })

	token := randomToken()
	db, key := reserveDB(t, admin, addr, token)
	// Cleanups run last-in, first-out: the database is flushed, then its client closed, then the reservation released.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
		defer cancel()
		if err := admin.Eval(ctx, releaseLua, []string{key}, token).Err(); err != nil {
			t.Errorf("testutil: releasing Redis %s db %d: %v", addr, db, err)
		}
	})
	r := &Redis{Addr: addr, DB: db, tb: t}
	data := r.Client(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
		defer cancel()
		if err := data.FlushDB(ctx).Err(); err != nil {
			t.Errorf("testutil: FLUSHDB of Redis %s db %d at cleanup: %v", addr, db, err)
		}
	})
	if err := data.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("testutil: FLUSHDB of Redis %s db %d: %v", addr, db, err)
	}
	return r
}

// reserveDB claims a free logical database with SET NX on db 0, polling until one is free or reserveWait passes.
func reserveDB(t testing.TB, admin *redis.Client, addr, token string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(reserveWait)
	for {
		for db := 1; db <= 15; db++ {
			key := fmt.Sprintf("testutil:db:%d", db)
			ok, err := admin.SetNX(context.Background(), key, token, reservationTTL).Result()
			if err != nil {
				t.Fatalf("testutil: reserving a database on Redis %s (REDIS_ADDR): %v", addr, err)
			}
			if ok {
				return db, key
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testutil: no free logical database 1..15 on Redis %s after %v: too many tests run in parallel "+
				"against it, or stale testutil:db:* keys in db 0 (they expire after %v)", addr, reserveWait, reservationTTL)
		}
		time.Sleep(reservePoll)
	}
}

// randomToken identifies one reservation (130 random bits), so that cleanup only ever releases its own.
func randomToken() string {
	return rand.Text()
}

// StartMiniredis always starts an embedded miniredis, closed at cleanup. Tests that travel in time (Clock.Advance)
// need it: a real server's TTLs follow the wall clock.
func StartMiniredis(t testing.TB) *Redis {
	t.Helper()
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		t.Fatalf("testutil: starting miniredis: %v", err)
	}
	t.Cleanup(mr.Close)
	return &Redis{Addr: mr.Addr(), Mini: mr, tb: t}
}

// Real reports whether r is a real Redis server rather than miniredis.
func (r *Redis) Real() bool { return r.Mini == nil }

// Client returns a new client of r, closed at cleanup. Each call opens its own connection pool, so two clients stand
// for two processes. A caller's deadline bounds every command (ContextTimeoutEnabled), and no command waits more than
// two seconds on the network. The client has connected once already, as a process does at startup, so that a test
// counting commands (miniredis CommandCount) does not count the connection handshake.
func (r *Redis) Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	if r.Cluster != nil {
		c = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: r.Cluster, ContextTimeoutEnabled: true, DisableIdentity: true,
			DialTimeout: netTimeout, ReadTimeout: netTimeout, WriteTimeout: netTimeout, DialerRetries: 1,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		})
	} else {
		c = newClient(&redis.Options{
			Addr:                  r.Addr,
			DB:                    r.DB,
			ContextTimeoutEnabled: true,
			DialTimeout:           netTimeout,
			ReadTimeout:           netTimeout,
			WriteTimeout:          netTimeout,
			DialerRetries:         1, // an outage test fails fast instead of redialling 5 times per command
		})
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	_ = c.Ping(ctx).Err() // a server down now is the test's business, not a setup failure
	return c
}

// newClient creates a client without the handshake extras that only add noise here: CLIENT SETINFO, and the
// maintenance notifications of managed Redis, which also run a goroutine per client.
func newClient(opt *redis.Options) *redis.Client {
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opt)
}

// Stop shuts the miniredis server down, keeping its data, to simulate an outage; Restart brings it back. A real
// server cannot be stopped: the test fails.
func (r *Redis) Stop() {
	if r.Real() {
		r.tb.Fatalf("testutil: Stop needs miniredis; Redis %s is a real server", r.Addr)
	}
	r.Mini.Close()
}

// Restart starts a stopped miniredis again on the same address, with the data it had.
func (r *Redis) Restart(t testing.TB) {
	t.Helper()
	if r.Real() {
		t.Fatalf("testutil: Restart needs miniredis; Redis %s is a real server", r.Addr)
	}
	if err := r.Mini.Restart(); err != nil {
		t.Fatalf("testutil: restarting miniredis on %s: %v", r.Addr, err)
	}
}

// DeadClient returns a client whose server refuses connections, closed at cleanup: every command fails fast with a
// connection error, without retries.
func DeadClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testutil: reserving a dead address: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("testutil: closing %s: %v", addr, err)
	}
	c := newClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialTimeout:           200 * time.Millisecond,
		// go-redis retries a failed dial 5 times, 100ms apart, by default: one attempt keeps the failure fast.
		DialerRetries: 1,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
