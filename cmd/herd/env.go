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
	// -spawn: tells the worker processes the new time, whose protectors read a copy of this clock
	sync func(ctx context.Context, now time.Time) error
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
	} else if err := c.ttl.expire(ctx, c.now); err != nil {
		return err
	}
	if c.sync != nil {
		return c.sync(ctx, c.now)
	}
	return nil
}

// ttlEmulator expires keys on a real Redis at instants of the simulated clock. With -spawn it lives in the parent,
// and the workers' cache-aside registers its keys over the loopback server (dbServer).
type ttlEmulator struct {
	client redis.UniversalClient
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
	if err := delKeys(ctx, e.client, keys); err != nil {
		return fmt.Errorf("expiring keys on Redis: %w", err)
	}
	return nil
}

// delKeys deletes keys, one DEL each in pipelines of 500: a multi-key DEL fails on a Redis Cluster when the keys
// hash to different slots (CROSSSLOT), and a cluster client splits a pipeline by node.
func delKeys(ctx context.Context, c redis.Cmdable, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 500)
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys[:n] {
				p.Del(ctx, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// world is everything one implementation meets in one scenario: a fresh Redis (or a fresh key prefix on a real
// one), a fresh fake database, and P processes, each an implementation on its own Redis client: goroutines of this
// process, or with -spawn worker processes of their own (fleet).
type world struct {
	kind    implKind
	clock   *simClock
	mr      *miniredis.Miniredis
	fault   *faultNet             // redis-outage in one process: between the processes' clients and Redis
	admin   redis.UniversalClient // real Redis: the simulator's own client, for TTL emulation and clean-up
	clients []redis.UniversalClient
	procs   []cacheImpl
	db      *fakeDB
	prefix  string
	fleet   *fleet // -spawn: the worker processes and the loopback server of the database
}

// netTimeout bounds every dial, read and write to Redis.
const netTimeout = 2 * time.Second

// redisOptions are the options of every client. go-redis's UniversalClient rules pick the client: one address is
// a server (a *redis.Client), several are the seeds of a Redis Cluster (a *redis.ClusterClient).
func redisOptions(addrs []string) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true, // a caller's deadline bounds its Redis commands too
		DialTimeout:           netTimeout,
		ReadTimeout:           netTimeout,
		WriteTimeout:          netTimeout,
		DisableIdentity:       true,
		// Managed-Redis maintenance notifications would add a goroutine per client and nothing else here.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// newRedisClient returns a client of addrs; through fault's proxies if fault is not nil.
func newRedisClient(addrs []string, fault *faultNet) redis.UniversalClient {
	opt := redisOptions(addrs)
	if fault != nil {
		opt.Dialer = fault.dial
	}
	return redis.NewUniversalClient(opt)
}

// warmUp connects c as a process does at startup, so that the herd does not pay for the first dial, or on a
// cluster for loading the slot map and dialling every node, within its requests' budgets.
func warmUp(c redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error { return s.Ping(ctx).Err() })
	}
	return c.Ping(ctx).Err()
}

// pingRedis checks that a real server, or every master of a cluster, answers before any scenario runs.
func pingRedis(ctx context.Context, addrs []string) error {
	opt := redisOptions(addrs)
	opt.MaxRetries, opt.DialerRetries = -1, 1 // one attempt: a wrong address fails fast
	c := redis.NewUniversalClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, netTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return err
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
	}
	return nil
}

// newWorld builds the world of kind in scenario sc. Close it, even after an error.
func newWorld(ctx context.Context, o *options, sc *scenario, kind implKind, runID string) (*world, error) {
	w := &world{kind: kind, clock: &simClock{now: simEpoch}, prefix: fmt.Sprintf("herd:%s:%s:%s:", runID, sc.name, kind)}
	addrs := o.redisAddrs
	if len(addrs) == 0 {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return w, fmt.Errorf("starting the embedded miniredis: %w", err)
		}
		w.mr, w.clock.mr, addrs = mr, mr, []string{mr.Addr()}
	} else {
		w.admin = newRedisClient(addrs, nil)
		w.clock.ttl = &ttlEmulator{client: w.admin, due: map[string]time.Time{}}
	}
	w.db = newFakeDB(o.dbLatency, o.dbPool, w.clock.Now, sc.buckets(o))
	if o.spawn {
		return w, w.spawn(ctx, o, sc)
	}
	return w, w.startProcs(o, sc, addrs)
}

// startProcs creates the processes as goroutines of this one, each on a Redis client of its own.
func (w *world) startProcs(o *options, sc *scenario, addrs []string) error {
	if sc.proxy {
		w.fault = newFaultNet()
	}
	cfg := o.implConfig(w.prefix, w.clock.Now)
	if w.clock.ttl != nil { // not a nil *ttlEmulator in a non-nil interface
		cfg.ttlEmulator = w.clock.ttl
	}
	mk := newImpl
	if o.newImpl != nil {
		mk = o.newImpl
	}
	for i := range o.procs {
		c := newRedisClient(addrs, w.fault)
		w.clients = append(w.clients, c)
		if err := warmUp(c); err != nil {
			return fmt.Errorf("process %d: connecting to Redis: %w", i, err)
		}
		p, err := mk(w.kind, c, w.db, cfg)
		if err != nil {
			return fmt.Errorf("creating %s: %w", w.kind, err)
		}
		w.procs = append(w.procs, p)
		if err := o.metrics.register(sc.name, i, p); err != nil {
			return fmt.Errorf("exporting %s process %d: %w", w.kind, i, err)
		}
	}
	return nil
}

// setFrozen freezes (true) or heals (false) Redis for every process: the proxies of this process, or each worker's.
func (w *world) setFrozen(ctx context.Context, frozen bool) error {
	if w.fleet != nil {
		return w.fleet.setFrozen(ctx, frozen)
	}
	if w.fault == nil {
		return fmt.Errorf("no fault proxy in scenario of %s", w.kind)
	}
	w.fault.setFrozen(frozen)
	return nil
}

// close heals the proxies, if any, so that no Redis call waits on a frozen connection; then closes the processes
// (each within closeWithin: a Close that hangs is reported, not waited for) and with -spawn stops the workers; then
// the clients, the proxies and the server; on a real Redis it deletes the run's keys. It returns what went wrong.
func (w *world) close(closeWithin time.Duration) []string {
	if w.fault != nil {
		w.fault.setFrozen(false) // a scenario abandoned mid-freeze leaves it frozen
	}
	problems := closeProcs(w.procs, closeWithin)
	if w.fleet != nil {
		problems = append(problems, w.fleet.close(closeWithin)...)
	}
	if w.admin != nil {
		if err := deletePrefix(w.admin, w.prefix); err != nil {
			problems = append(problems, fmt.Sprintf("deleting the keys %s*: %v", w.prefix, err))
		}
		_ = w.admin.Close()
	}
	for _, c := range w.clients {
		_ = c.Close()
	}
	if w.fault != nil {
		w.fault.close()
	}
	if w.mr != nil {
		w.mr.Close()
	}
	return problems
}

// closeProcs closes each process within closeWithin, recovering a panic of its Close.
func closeProcs(procs []cacheImpl, closeWithin time.Duration) []string {
	var problems []string
	for i, p := range procs {
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
	return problems
}

// deletePrefix deletes every key of a run from a real server, or from every master of a cluster (a SCAN covers one
// node only). They all have TTLs too, should this not happen.
func deletePrefix(c redis.UniversalClient, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*netTimeout)
	defer cancel()
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return deletePrefixOn(ctx, m, prefix) })
	}
	return deletePrefixOn(ctx, c, prefix)
}

// deletePrefixOn deletes the keys of prefix from one server, or one node.
func deletePrefixOn(ctx context.Context, c redis.UniversalClient, prefix string) error {
	keys, err := scanPrefix(ctx, c, prefix)
	if err != nil {
		return err
	}
	return delKeys(ctx, c, keys)
}

// scanPrefix lists the keys of prefix on one server, or one node.
func scanPrefix(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
