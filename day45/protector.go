package day45

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ThunderingHerdProtector is a read-through Redis cache in front of a DataRepository that lets exactly one caller
// load a missing or stale key. It is safe for concurrent use. Close it to stop and await its background work; the
// Redis client stays the caller's to close.
type ThunderingHerdProtector struct {
	cache CacheClient
	db    DataRepository
	cfg   Config

	flights      *flightGroup
	shedding     *shedder        // the caps on a key's waiters and on the database loads (step 09)
	queryTimes   *Histogram      // of the database queries (step 10)
	breaker      *CircuitBreaker // in front of the database
	cacheBreaker *CircuitBreaker // in front of Redis
	refreshes    refreshSet
	pending      pendingValues
	calls        sync.Pool // of *cacheCall
	metrics      metrics
	work         tasks
	cacheFailing atomic.Bool // the last Redis call failed: a load does not spend another budget on the lock
	direct       bool        // the client honours deadlines: Redis calls run on their caller's goroutine
}

// NewThunderingHerdProtector returns a protector over cache and db. It fails with ErrInvalidArgument when a client
// is nil or cfg is invalid.
func NewThunderingHerdProtector(cache CacheClient, db DataRepository, cfg Config) (*ThunderingHerdProtector, error) {
	if cache == nil {
		return nil, fmt.Errorf("%w: nil cache client", ErrInvalidArgument)
	}
	if db == nil {
		return nil, fmt.Errorf("%w: nil data repository", ErrInvalidArgument)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &ThunderingHerdProtector{
		cache:        cache,
		db:           db,
		cfg:          cfg,
		breaker:      NewCircuitBreaker(cfg.BreakerThreshold, cfg.BreakerTimeout, cfg.Now),
		cacheBreaker: NewCircuitBreaker(cfg.CacheBreakerThreshold, cfg.CacheBreakerTimeout, cfg.Now),
		direct:       honoursDeadlines(cache),
	}
	p.flights = newFlightGroup(&p.work, p.metrics.singleFlightHit)
	p.shedding = newShedder(cfg.MaxConcurrentLoads, cfg.MaxWaitersPerKey)
	p.queryTimes = NewHistogram(cfg.QueryBuckets...)
	p.calls.New = func() any { return newCacheCall(p) }
	return p, nil
}

// Get returns the value of key: from the cache when it is fresh (one Redis round trip), otherwise from one shared
// load. When the load fails and a stale value exists, the stale value is returned (stale-if-error). ctx bounds
// only this caller: if it ends, Get returns ctx.Err() and the shared load goes on for the others.
func (p *ThunderingHerdProtector) Get(ctx context.Context, key string) (*Data, error) {
	cached, fresh, err := p.lookup(ctx, key)
	if err != nil || fresh {
		return cached, err
	}
	return p.fill(ctx, key, cached)
}

// Set stores value under key, fresh for a jittered ttl and kept StaleTTL longer for stale reads. It waits for
// Redis (within CacheTimeout) and reports whether the value was stored.
func (p *ThunderingHerdProtector) Set(ctx context.Context, key string, value *Data, ttl time.Duration) error {
	if err := p.admit(key); err != nil {
		return err
	}
	if value == nil {
		return fmt.Errorf("%w: nil value for key %q", ErrInvalidArgument, key)
	}
	if ttl <= 0 {
		return fmt.Errorf("%w: ttl %v for key %q, want > 0", ErrInvalidArgument, ttl, key)
	}
	p.pending.forget(key) // a value loaded earlier must not be served over this one
	return p.store(ctx, key, value, ttl)
}

// Close stops new background work, waits for the running loads, write-backs and refreshes, and makes every later
// call return ErrClosed. It does not close the Redis client.
func (p *ThunderingHerdProtector) Close() error {
	if p.cache == nil {
		return nil
	}
	if !p.work.close() {
		return ErrClosed
	}
	return nil
}

// goBackground runs f on a goroutine that Close waits for. It reports false, and runs nothing, after Close.
func (p *ThunderingHerdProtector) goBackground(f func()) bool { return p.work.goOwned(f) }

// admit rejects calls on a closed or uninitialised protector and bad keys.
func (p *ThunderingHerdProtector) admit(key string) error {
	switch {
	case p.cache == nil:
		return fmt.Errorf("%w: protector not created with NewThunderingHerdProtector", ErrInvalidArgument)
	case p.work.isClosed():
		return ErrClosed
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidArgument)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: key of %d bytes, limit %d", ErrInvalidArgument, len(key), maxKeyLen)
	case strings.HasPrefix(key, lockNamespace):
		// Its data key would be the lock key of another key: whoever can choose what is cached could block that key.
		return fmt.Errorf("%w: key %q begins with %q, the namespace of the protector's locks", ErrInvalidArgument, key, lockNamespace)
	}
	return nil
}

// lookup is the front of Get and GetStaleWhileRevalidate: admit, one GET, and the hit-or-miss count. cached is the
// value in Redis, fresh or stale, or nil.
func (p *ThunderingHerdProtector) lookup(ctx context.Context, key string) (cached *Data, fresh bool, err error) {
	if err := p.admit(key); err != nil {
		return nil, false, err
	}
	// A Redis failure or an undecodable entry is a miss, so that singleflight, the lock and the breaker still stand
	// between the callers and the database; the load that follows overwrites a corrupt entry.
	env, err := p.read(ctx, key)
	if errors.Is(err, errCorruptEntry) {
		p.metrics.cacheError()
	}
	now := p.cfg.Now()
	if env.data != nil && env.freshAt(now) {
		p.metrics.hit()
		p.refreshEarly(key, &env, now)
		return env.data, true, nil
	}
	if env.absent && env.freshAt(now) { // the database lacks key, as a load found moments ago
		p.metrics.hit()
		return nil, true, p.absentErr(key)
	}
	// Off the hit path: a value (or an absence) this process loaded moments ago whose write-back has not landed, or
	// that Redis could not take, is as fresh as a cached one.
	if d, ok := p.pending.get(key, now); ok {
		p.metrics.hit()
		if d == nil {
			return nil, true, p.absentErr(key)
		}
		return d, true, nil
	}
	p.metrics.miss()
	if ctxErr := ctx.Err(); ctxErr != nil && env.data == nil {
		return nil, false, ctxErr
	}
	return env.data, false, nil
}

// read fetches and decodes the entry of key: a zero envelope when there is none, an error when Redis fails or the
// entry does not decode (errCorruptEntry). It returns the envelope by value: a hit allocates nothing beyond the Data.
func (p *ThunderingHerdProtector) read(ctx context.Context, key string) (envelope, error) {
	b, err := p.cacheGet(ctx, key)
	if err != nil {
		return envelope{}, err // redis.Nil included: no entry
	}
	return decodeEnvelope(b)
}

// fill answers a miss through one shared load, falling back to stale when the load fails or a cap sheds it.
func (p *ThunderingHerdProtector) fill(ctx context.Context, key string, stale *Data) (*Data, error) {
	d, err := p.share(ctx, key)
	if err == nil {
		return d, nil
	}
	if errors.Is(err, ErrOverloaded) {
		p.metrics.shed()
	}
	if stale != nil && ctx.Err() == nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrClosed) {
		p.metrics.staleReturn()
		return stale, nil
	}
	return nil, err
}

// share waits for the shared load of key, unless MaxWaitersPerKey callers already wait for it.
func (p *ThunderingHerdProtector) share(ctx context.Context, key string) (*Data, error) {
	if !p.shedding.join(key) {
		return nil, fmt.Errorf("day45: %q: %w: MaxWaitersPerKey (%d) callers already wait for its load",
			key, ErrOverloaded, p.cfg.MaxWaitersPerKey)
	}
	defer p.shedding.leave(key)
	return p.flights.do(ctx, key, p.load)
}

// load is the shared load of one key, run once per process by the flight group on a context detached from the
// callers. The distributed lock makes it run once across processes: the holder re-checks the cache and loads; the
// others wait for the value, and compete again if the lock disappears without one.
func (p *ThunderingHerdProtector) load(ctx context.Context, key string) (*Data, error) {
	// A flight that ended a moment ago left its value here if Redis has not taken it yet. Checked inside the flight,
	// not before it: a caller that looked before that flight ended may join the group only after it has.
	if d, ok := p.pending.get(key, p.cfg.Now()); ok {
		if d == nil {
			return nil, p.absentErr(key)
		}
		return d, nil
	}
	// The bulkhead before the lock: a refused load costs no Redis round trip, which a burst of cold keys cannot
	// spare.
	slot := loadSlot{shedding: p.shedding}
	if !slot.take() {
		return nil, p.overloadedLoads(key)
	}
	defer slot.give()
	if p.cacheFailing.Load() {
		// Redis just failed, most likely the lookup of this very miss: trying the lock would cost a second budget
		// before the database. Load without it; singleflight and the breaker still guard the database.
		return p.loadFromDB(ctx, key, nil)
	}
	return p.loadOnce(ctx, key, &slot)
}

// loadSlot is a load's slot of the bulkhead. The load gives it back while it waits for another process's load of
// its key: waiting asks nothing of the database, and slots held by waiters would shed this process's own loads
// whenever another process is slow.
type loadSlot struct {
	shedding *shedder
	held     bool
}

func (s *loadSlot) take() bool {
	s.held = s.shedding.startLoad()
	return s.held
}

func (s *loadSlot) give() {
	if s.held {
		s.held = false
		s.shedding.endLoad()
	}
}

// loadOnce loads key unless another process is loading it: then it waits for that value, without its slot, and
// competes again, with a slot again, if the lock disappears without one.
func (p *ThunderingHerdProtector) loadOnce(ctx context.Context, key string, slot *loadSlot) (*Data, error) {
	waitCtx, cancel := context.WithTimeout(ctx, p.cfg.LockWait)
	defer cancel()
	for {
		if waitCtx.Err() != nil {
			return nil, p.lockTimeout(key)
		}
		lock := NewDistributedLock(p.cache, p.lockKey(key), p.cfg.LockTTL)
		err := p.cacheDo(waitCtx, lock.Acquire)
		switch {
		case err == nil:
			p.metrics.lockAcquired()
			return p.loadLocked(ctx, key, lock)
		case errors.Is(err, ErrLockNotAcquired):
			p.metrics.lockWait()
			slot.give()
			d, err := p.awaitValue(waitCtx, key)
			if !errors.Is(err, errLockGone) {
				return d, err
			}
			if !slot.take() {
				return nil, p.overloadedLoads(key)
			}
		case waitCtx.Err() != nil:
			return nil, p.lockTimeout(key)
		default:
			// Redis is failing: load without the lock. Singleflight and the breaker still guard the database.
			return p.loadFromDB(ctx, key, nil)
		}
	}
}

// loadLocked runs while this process holds the lock of key.
func (p *ThunderingHerdProtector) loadLocked(ctx context.Context, key string, lock *DistributedLock) (*Data, error) {
	// Another process may have stored the value (or an absence) between our miss and our lock: without this
	// re-check, a second load would start right after the first.
	if env, err := p.read(ctx, key); err == nil && (env.data != nil || env.absent) && env.freshAt(p.cfg.Now()) {
		p.writeBack(key, nil, lock, 0)
		if env.absent {
			return nil, p.absentErr(key)
		}
		return env.data, nil
	}
	return p.loadFromDB(ctx, key, lock)
}

var errLockGone = errors.New("day45: lock released without a value")

// awaitValue polls the cache while another process holds the lock. It returns the value once it is fresh,
// errLockGone once the lock is gone without a value, and ErrLockTimeout when ctx (bounded by LockWait) ends.
func (p *ThunderingHerdProtector) awaitValue(ctx context.Context, key string) (*Data, error) {
	tick := time.NewTicker(p.cfg.LockPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, p.lockTimeout(key)
		case <-tick.C:
		}
		var get *redis.StringCmd
		var held *redis.IntCmd
		// One round trip per poll: the value and whether the lock still exists.
		err := p.cacheDo(ctx, func(ctx context.Context) error {
			_, err := p.cache.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				get = pipe.Get(ctx, p.dataKey(key))
				held = pipe.Exists(ctx, p.lockKey(key))
				return nil
			})
			return err
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			// Redis trouble: compete again, which falls back to a lock-free load if Redis stays down.
			return nil, errLockGone
		}
		if b, err := get.Bytes(); err == nil {
			if env, err := decodeEnvelope(b); err == nil && env.freshAt(p.cfg.Now()) {
				if env.absent {
					return nil, p.absentErr(key)
				}
				return env.data, nil
			}
		}
		if held.Val() == 0 {
			return nil, errLockGone
		}
	}
}

func (p *ThunderingHerdProtector) lockTimeout(key string) error {
	return fmt.Errorf("%w: no value for %q after %v", ErrLockTimeout, key, p.cfg.LockWait)
}

// absentErr is the answer for a key whose absence a load remembered.
func (p *ThunderingHerdProtector) absentErr(key string) error {
	return fmt.Errorf("day45: %q: %w (remembered for NegativeTTL)", key, ErrNotFound)
}

// loadAndStore is loadFromDB within a slot of the bulkhead, for a load that does not come through load (an early
// refresh). Refused, it releases lock and returns ErrOverloaded.
func (p *ThunderingHerdProtector) loadAndStore(ctx context.Context, key string, lock *DistributedLock) (*Data, error) {
	if !p.shedding.startLoad() {
		p.writeBack(key, nil, lock, 0)
		return nil, p.overloadedLoads(key)
	}
	defer p.shedding.endLoad()
	return p.loadFromDB(ctx, key, lock)
}

// overloadedLoads is the error of a load that the bulkhead refused.
func (p *ThunderingHerdProtector) overloadedLoads(key string) error {
	return fmt.Errorf("day45: load %q: %w: %d loads already run (MaxConcurrentLoads)", key, ErrOverloaded,
		p.cfg.MaxConcurrentLoads)
}

// loadFromDB loads key from the database and hands the value, or the key's absence, to the write-back, which
// also releases lock (nil when Redis failed and the load runs without one). The callers do not wait for Redis.
// The caller holds a slot of the bulkhead.
func (p *ThunderingHerdProtector) loadFromDB(ctx context.Context, key string, lock *DistributedLock) (*Data, error) {
	start := p.cfg.Now()
	d, err := p.loadDB(ctx, key)
	if errors.Is(err, ErrNotFound) {
		p.writeBackAbsence(key, lock)
		return nil, err
	}
	if err != nil {
		p.writeBack(key, nil, lock, 0)
		return nil, err
	}
	p.writeBack(key, d, lock, p.cfg.Now().Sub(start))
	return d, nil
}

// loadDB is the one place that calls the repository: through the breaker, bounded by LoadTimeout.
func (p *ThunderingHerdProtector) loadDB(ctx context.Context, key string) (*Data, error) {
	v, err := p.breaker.Call(func() (any, error) { return p.queryDB(ctx, key) })
	if err != nil {
		return nil, fmt.Errorf("day45: load %q: %w", key, err)
	}
	d, _ := v.(*Data) // comma-ok: a bare v.(*Data) panics when v is a nil interface
	return d, nil
}

// queryDB calls the repository once, turning a panic or a nil result into an error so that neither escapes, and
// observes how long it took, whatever the outcome.
func (p *ThunderingHerdProtector) queryDB(ctx context.Context, key string) (d *Data, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.LoadTimeout)
	defer cancel()
	p.metrics.dbQuery()
	start := p.cfg.Now()
	defer func() {
		p.queryTimes.Observe(p.cfg.Now().Sub(start))
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("day45: repository panicked: %v", r)
		}
		if err == nil && d == nil {
			err = errors.New("day45: repository returned neither data nor an error")
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.metrics.dbError()
		}
	}()
	return p.db.Load(ctx, key)
}

// store writes d under key, fresh for a jittered ttl from now and physically kept StaleTTL longer.
func (p *ThunderingHerdProtector) store(ctx context.Context, key string, d *Data, ttl time.Duration) error {
	e, err := p.entry(key, d, ttl, 0)
	if err != nil {
		return err
	}
	return p.put(ctx, e)
}

// cacheEntry is an encoded value, or absence, ready for Redis.
type cacheEntry struct {
	key     string
	value   []byte
	expiry  time.Duration
	version string // of a value, as orderedVersion renders it; "" for an absence
}

// entry encodes d for key, fresh for a jittered ttl from now, with the time it took to load (0 for a Set). The
// freshness instant is fixed here, when the value was loaded, not when the write-back lands.
func (p *ThunderingHerdProtector) entry(key string, d *Data, ttl, loadTime time.Duration) (cacheEntry, error) {
	fresh := AddJitter(ttl, p.cfg.JitterPercent)
	b, err := encodeEnvelope(d, p.cfg.Now().Add(fresh), loadTime)
	if err != nil {
		return cacheEntry{}, fmt.Errorf("day45: encode %q: %w", key, err)
	}
	expiry := max(fresh+p.cfg.StaleTTL, time.Millisecond) // Redis expiries have millisecond resolution
	return cacheEntry{key: key, value: b, expiry: expiry, version: orderedVersion(d.Version)}, nil
}

func (p *ThunderingHerdProtector) put(ctx context.Context, e cacheEntry) error {
	err := p.cacheDo(ctx, func(ctx context.Context) error {
		return p.cache.Set(ctx, p.dataKey(e.key), e.value, e.expiry).Err()
	})
	if err != nil {
		return fmt.Errorf("day45: store %q: %w", e.key, err)
	}
	return nil
}

func (p *ThunderingHerdProtector) dataKey(key string) string { return p.cfg.KeyPrefix + key }
func (p *ThunderingHerdProtector) lockKey(key string) string {
	return p.cfg.KeyPrefix + lockNamespace + key
}

// lockNamespace begins every lock key after KeyPrefix. admit refuses user keys that begin with it, so that no data
// key can ever be a lock key.
const lockNamespace = "lock:"

// tasks is the protector's background work: loads, Redis calls, write-backs, refreshes. Close waits for every task
// that began before it. begin is on the hit path (every Redis call is a task), so it takes no lock: a task counts
// itself in, then checks closed; close sets closed, then waits for the count to drain. Either the task sees closed
// and leaves, or close sees its count and waits. The zero value is open and empty.
type tasks struct {
	running atomic.Int64
	closed  atomic.Bool
	mu      sync.Mutex // guards idle
	idle    chan struct{}
}

// begin admits one task, or reports false after close. Every admitted task must call end.
func (t *tasks) begin() bool {
	t.running.Add(1)
	if t.closed.Load() {
		t.end()
		return false
	}
	return true
}

func (t *tasks) end() {
	if t.running.Add(-1) == 0 && t.closed.Load() {
		t.mu.Lock()
		if t.idle != nil {
			close(t.idle)
			t.idle = nil
		}
		t.mu.Unlock()
	}
}

// goOwned runs f on a goroutine as one task. It reports false, and runs nothing, after close.
func (t *tasks) goOwned(f func()) bool {
	if !t.begin() {
		return false
	}
	go func() {
		defer t.end()
		f()
	}()
	return true
}

func (t *tasks) isClosed() bool { return t.closed.Load() }

// close refuses new tasks and waits for the running ones. It reports false if already closed.
func (t *tasks) close() bool {
	t.mu.Lock()
	if t.closed.Swap(true) {
		t.mu.Unlock()
		return false
	}
	idle := make(chan struct{})
	t.idle = idle
	t.mu.Unlock()
	if t.running.Load() == 0 {
		t.mu.Lock()
		if t.idle != nil {
			t.idle = nil
			close(idle)
		}
		t.mu.Unlock()
	}
	<-idle
	return true
}
