package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// simClock is the simulated clock of one run, shared by the protectors (Config.Now), the fake database and the
// scenario. It moves only when the scenario advances it, so that "one second later" costs no real time.
//
// Redis must see time move with it. The embedded miniredis does: advance fast-forwards its TTLs. A real server
// cannot travel in time, so on -redis the clock expires, as it passes their TTL, the keys that the no-protection
// cache-aside wrote (ttlEmulator). The protectors need no such help: they judge freshness on the clock itself, and
// their keys outlive every scenario in Redis (TTL + StaleTTL) by design.
type simClock struct {
	mu  sync.Mutex
	now time.Time
	mr  *miniredis.Miniredis // embedded: its TTLs move with the clock
	ttl *ttlEmulator         // real Redis: the cache-aside keys to expire as the clock passes their TTL
}

// simEpoch is where simulated time starts.
var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock by d, and Redis's notion of what has expired with it.
func (c *simClock) advance(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	if c.mr != nil {
		c.mr.FastForward(d)
		return nil
	}
	return c.ttl.expire(ctx, c.now)
}

// ttlEmulator expires keys on a real Redis at instants of the simulated clock.
type ttlEmulator struct {
	client *redis.Client
	mu     sync.Mutex
	due    map[string]time.Time // key -> when it expires
}

// realTTLSlack is added to the Redis TTL of an emulated key, so that the wall clock never expires it before the
// simulated one does; the emulator deletes it on time, and the run deletes its keys at the end anyway.
const realTTLSlack = 30 * time.Second

// expireAt makes key expire at the simulated instant at, replacing any earlier expiry.
func (e *ttlEmulator) expireAt(key string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.due[key] = at
}

// expire deletes the keys due at now.
func (e *ttlEmulator) expire(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	var keys []string
	for k, at := range e.due {
		if !now.Before(at) {
			keys = append(keys, k)
			delete(e.due, k)
		}
	}
	e.mu.Unlock()
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := e.client.Del(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("expiring keys on Redis: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// world is everything one implementation meets in one scenario: a fresh Redis (or a fresh key prefix on a real
// one), a fresh fake database, and P processes, each an implementation on its own Redis client.
type world struct {
	kind    implKind
	clock   *simClock
	mr      *miniredis.Miniredis
	proxy   *faultProxy // redis-outage: between the processes' clients and Redis
	clients []*redis.Client
	procs   []cacheImpl
	db      *fakeDB
	prefix  string
}

// netTimeout bounds every dial, read and write to Redis.
const netTimeout = 2 * time.Second

func newRedisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true, // a caller's deadline bounds its Redis commands too
		DialTimeout:           netTimeout,
		ReadTimeout:           netTimeout,
		WriteTimeout:          netTimeout,
		DisableIdentity:       true,
		// Managed-Redis maintenance notifications would add a goroutine per client and nothing else here.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// pingRedis checks that a real server answers before any scenario runs.
func pingRedis(ctx context.Context, addr string) error {
	c := newRedisClient(addr)
	opt := c.Options()
	c.Close()
	opt.MaxRetries, opt.DialerRetries = -1, 1 // one attempt: a wrong address fails fast
	c = redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, netTimeout)
	defer cancel()
	return c.Ping(ctx).Err()
}

// newWorld builds the world of kind in scenario sc. Close it, even after an error.
func newWorld(o *options, sc *scenario, kind implKind, runID string) (*world, error) {
	w := &world{kind: kind, clock: &simClock{now: simEpoch}, prefix: fmt.Sprintf("herd:%s:%s:%s:", runID, sc.name, kind)}
	addr := o.redisAddr
	if addr == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return w, fmt.Errorf("starting the embedded miniredis: %w", err)
		}
		w.mr, w.clock.mr, addr = mr, mr, mr.Addr()
	} else {
		c := newRedisClient(addr)
		w.clients = append(w.clients, c) // closed with the others
		w.clock.ttl = &ttlEmulator{client: c, due: map[string]time.Time{}}
	}
	if sc.proxy {
		p, err := startProxy(addr)
		if err != nil {
			return w, err
		}
		w.proxy, addr = p, p.addr
	}
	w.db = newFakeDB(o.dbLatency, o.dbPool, w.clock.Now, sc.buckets)
	cfg := o.implConfig(w.prefix, w.clock.Now)
	cfg.ttlEmulator = w.clock.ttl
	for range o.procs {
		c := newRedisClient(addr)
		w.clients = append(w.clients, c)
		mk := newImpl
		if o.newImpl != nil {
			mk = o.newImpl
		}
		p, err := mk(kind, c, w.db, cfg)
		if err != nil {
			return w, fmt.Errorf("creating %s: %w", kind, err)
		}
		w.procs = append(w.procs, p)
	}
	return w, nil
}

// close heals the proxy, if any, so that no Redis call waits on a frozen connection; then closes the processes
// (each within closeWithin: a Close that hangs is reported, not waited for), then the clients, the proxy and the
// server; on a real Redis it deletes the run's keys. It returns what went wrong.
func (w *world) close(closeWithin time.Duration) []string {
	var problems []string
	if w.proxy != nil {
		w.proxy.heal() // a scenario abandoned mid-freeze leaves it frozen
	}
	for i, p := range w.procs {
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- p.Close()
		}()
		t := time.NewTimer(closeWithin)
		select {
		case err := <-done:
			if err != nil {
				problems = append(problems, fmt.Sprintf("process %d: Close: %v", i, err))
			}
		case <-t.C:
			problems = append(problems, fmt.Sprintf("process %d: Close still running after %v", i, closeWithin))
		}
		t.Stop()
	}
	if w.mr == nil && len(w.clients) > 0 {
		if err := deletePrefix(w.clients[0], w.prefix); err != nil {
			problems = append(problems, fmt.Sprintf("deleting the keys %s*: %v", w.prefix, err))
		}
	}
	for _, c := range w.clients {
		_ = c.Close()
	}
	if w.proxy != nil {
		w.proxy.close()
	}
	if w.mr != nil {
		w.mr.Close()
	}
	return problems
}

// deletePrefix deletes every key of a run from a real server (they all have TTLs too, should this not happen).
func deletePrefix(c *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*netTimeout)
	defer cancel()
	iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Del(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
