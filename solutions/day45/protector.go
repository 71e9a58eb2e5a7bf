package day45

import (
	"context"
	"errors"
	"fmt"
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

	flights   *flightGroup
	breaker   *CircuitBreaker
	refreshes refreshSet
	metrics   metrics

	// closed is read on every call; mu orders it against wg.Add so that Close cannot miss a goroutine.
	closed atomic.Bool
	mu     sync.Mutex
	wg     sync.WaitGroup
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
		cache:   cache,
		db:      db,
		cfg:     cfg,
		breaker: NewCircuitBreaker(cfg.BreakerThreshold, cfg.BreakerTimeout, cfg.Now),
	}
	p.flights = newFlightGroup(p.goBackground, p.metrics.singleFlightHit)
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

// Set stores value under key, fresh for a jittered ttl and kept StaleTTL longer for stale reads.
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
	return p.store(ctx, key, value, ttl)
}

// Close stops new background work, waits for the running loads and refreshes, and makes every later call return
// ErrClosed. It does not close the Redis client.
func (p *ThunderingHerdProtector) Close() error {
	if p.cache == nil {
		return nil
	}
	p.mu.Lock()
	already := p.closed.Swap(true)
	p.mu.Unlock()
	if already {
		return ErrClosed
	}
	p.wg.Wait()
	return nil
}

// goBackground runs f on a goroutine that Close waits for. It reports false, and runs nothing, after Close.
func (p *ThunderingHerdProtector) goBackground(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// admit rejects calls on a closed or uninitialised protector and bad keys.
func (p *ThunderingHerdProtector) admit(key string) error {
	switch {
	case p.cache == nil:
		return fmt.Errorf("%w: protector not created with NewThunderingHerdProtector", ErrInvalidArgument)
	case p.closed.Load():
		return ErrClosed
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidArgument)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: key of %d bytes, limit %d", ErrInvalidArgument, len(key), maxKeyLen)
	}
	return nil
}

// lookup is the front of Get and GetStaleWhileRevalidate: admit, one GET, and the hit-or-miss count. cached is the
// value in Redis, fresh or stale, or nil.
func (p *ThunderingHerdProtector) lookup(ctx context.Context, key string) (cached *Data, fresh bool, err error) {
	if err := p.admit(key); err != nil {
		return nil, false, err
	}
	env, err := p.read(ctx, key)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			p.metrics.miss()
			return nil, false, ctxErr
		}
		// A Redis failure or an undecodable entry is a miss, so that singleflight, the lock and the breaker still
		// stand between the callers and the database; the load that follows overwrites a corrupt entry.
		p.metrics.cacheError()
	}
	fresh = env.data != nil && env.freshAt(p.cfg.Now())
	if fresh {
		p.metrics.hit()
	} else {
		p.metrics.miss()
	}
	return env.data, fresh, nil
}

// read fetches and decodes the entry of key: a zero envelope when there is none, an error when Redis fails or the
// entry does not decode. It returns the envelope by value: a hit allocates nothing beyond the Data.
func (p *ThunderingHerdProtector) read(ctx context.Context, key string) (envelope, error) {
	b, err := p.cache.Get(ctx, p.dataKey(key)).Bytes()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return envelope{}, nil
		}
		return envelope{}, err
	}
	return decodeEnvelope(b)
}

// fill answers a miss through one shared load, falling back to stale when the load fails.
func (p *ThunderingHerdProtector) fill(ctx context.Context, key string, stale *Data) (*Data, error) {
	d, err := p.flights.do(ctx, key, p.load)
	if err == nil {
		return d, nil
	}
	if stale != nil && ctx.Err() == nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrClosed) {
		p.metrics.staleReturn()
		return stale, nil
	}
	return nil, err
}

// load is the shared load of one key, run once per process by the flight group on a context detached from the
// callers. The distributed lock makes it run once across processes: the holder re-checks the cache and loads; the
// others wait for the value, and compete again if the lock disappears without one.
func (p *ThunderingHerdProtector) load(ctx context.Context, key string) (*Data, error) {
	waitCtx, cancel := context.WithTimeout(ctx, p.cfg.LockWait)
	defer cancel()
	for {
		if waitCtx.Err() != nil {
			return nil, p.lockTimeout(key)
		}
		lock := NewDistributedLock(p.cache, p.lockKey(key), p.cfg.LockTTL)
		err := lock.Acquire(waitCtx)
		switch {
		case err == nil:
			p.metrics.lockAcquired()
			return p.loadLocked(ctx, key, lock)
		case errors.Is(err, ErrLockNotAcquired):
			p.metrics.lockWait()
			d, err := p.awaitValue(waitCtx, key)
			if errors.Is(err, errLockGone) {
				continue
			}
			return d, err
		case waitCtx.Err() != nil:
			return nil, p.lockTimeout(key)
		default:
			// Redis is failing: load without the lock. Singleflight and the breaker still guard the database.
			p.metrics.cacheError()
			return p.loadAndStore(ctx, key)
		}
	}
}

// loadLocked runs while this process holds the lock of key.
func (p *ThunderingHerdProtector) loadLocked(ctx context.Context, key string, lock *DistributedLock) (*Data, error) {
	// ctx is detached from the callers, so the release is not lost to a caller's cancellation.
	defer func() { _ = lock.Release(ctx) }()
	// Another process may have stored the value between our miss and our lock: without this re-check, a second
	// load would start right after the first.
	if env, err := p.read(ctx, key); err == nil && env.data != nil && env.freshAt(p.cfg.Now()) {
		return env.data, nil
	}
	return p.loadAndStore(ctx, key)
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
		_, err := p.cache.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			get = pipe.Get(ctx, p.dataKey(key))
			held = pipe.Exists(ctx, p.lockKey(key))
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			// Redis trouble: compete again, which falls back to a lock-free load if Redis stays down.
			return nil, errLockGone
		}
		if b, err := get.Bytes(); err == nil {
			if env, err := decodeEnvelope(b); err == nil && env.freshAt(p.cfg.Now()) {
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

// loadAndStore loads key from the database and caches it. A failed store still answers: the value is good.
func (p *ThunderingHerdProtector) loadAndStore(ctx context.Context, key string) (*Data, error) {
	d, err := p.loadDB(ctx, key)
	if err != nil {
		return nil, err
	}
	_ = p.store(ctx, key, d, p.cfg.TTL)
	return d, nil
}

// loadDB is the one place that calls the repository: through the breaker, bounded by LoadTimeout.
func (p *ThunderingHerdProtector) loadDB(ctx context.Context, key string) (*Data, error) {
	v, err := p.breaker.Call(func() (any, error) { return p.queryDB(ctx, key) })
	if err != nil {
		return nil, fmt.Errorf("day45: load %q: %w", key, err)
	}
	d, _ := v.(*Data) // checked: a bare v.(*Data) panics on a nil interface
	return d, nil
}

// queryDB calls the repository once, turning a panic or a nil result into an error so that neither escapes.
func (p *ThunderingHerdProtector) queryDB(ctx context.Context, key string) (d *Data, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.LoadTimeout)
	defer cancel()
	p.metrics.dbQuery()
	defer func() {
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

// store writes d under key, fresh for a jittered ttl and physically kept StaleTTL longer.
func (p *ThunderingHerdProtector) store(ctx context.Context, key string, d *Data, ttl time.Duration) error {
	fresh := AddJitter(ttl, p.cfg.JitterPercent)
	b, err := encodeEnvelope(d, p.cfg.Now().Add(fresh))
	if err != nil {
		return fmt.Errorf("day45: encode %q: %w", key, err)
	}
	expiry := max(fresh+p.cfg.StaleTTL, time.Millisecond) // Redis expiries have millisecond resolution
	if err := p.cache.Set(ctx, p.dataKey(key), b, expiry).Err(); err != nil {
		p.metrics.cacheError()
		return fmt.Errorf("day45: store %q: %w", key, err)
	}
	return nil
}

func (p *ThunderingHerdProtector) dataKey(key string) string { return p.cfg.KeyPrefix + key }
func (p *ThunderingHerdProtector) lockKey(key string) string { return p.cfg.KeyPrefix + "lock:" + key }
