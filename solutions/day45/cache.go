package day45

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The cache is a dependency like the database: it can refuse connections, freeze, or answer slowly. A frozen Redis
// is the worst case, since a client waits out its own timeouts and retries (seconds each) before it fails. So every
// Redis operation of the protector has its own budget, CacheTimeout, and goes through the cache breaker: after
// CacheBreakerThreshold consecutive failures the protector stops calling Redis for CacheBreakerTimeout and answers
// from the database, still through singleflight and the database breaker.

// errCacheUnavailable is the error of a Redis operation that the open cache breaker did not attempt.
var errCacheUnavailable = errors.New("day45: cache skipped while Redis is failing")

// honoursDeadlines reports whether c ends every wait of a command (dial, pool queue, socket, retry back-off) at the
// deadline of the command's context. go-redis does so only with ContextTimeoutEnabled: otherwise its sockets wait
// ReadTimeout and WriteTimeout (seconds) whatever the context says. Client.WithTimeout would shorten those, but its
// copy drops the hooks (tracing, metrics) that the application installed, so it is not used.
func honoursDeadlines(c CacheClient) bool {
	switch c := c.(type) { // interfaces, so that a wrapper around a client is recognised too
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.RingOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// cacheDo runs one Redis operation within CacheTimeout, through the cache breaker. It returns errCacheUnavailable,
// without calling Redis, while the breaker is open. Failures are counted in CacheErrors; answers such as redis.Nil
// or a lock held by another owner are not failures.
func (p *ThunderingHerdProtector) cacheDo(ctx context.Context, op func(context.Context) error) error {
	var opErr error
	_, err := p.cacheBreaker.Call(func() (any, error) {
		opErr = p.budgeted(ctx, op)
		if !isCacheFailure(opErr) || ctx.Err() != nil {
			return nil, nil // an answer, or the caller left: neither says Redis is failing
		}
		return nil, opErr
	})
	switch {
	case errors.Is(err, ErrCircuitOpen):
		p.metrics.cacheSkip()
		return errCacheUnavailable
	case isCacheFailure(opErr) && ctx.Err() == nil:
		p.metrics.cacheError()
	}
	return opErr
}

// budgeted runs op on a context that ends after CacheTimeout. For a client that does not honour deadlines, op runs
// on an owned goroutine that the caller stops waiting for at the budget; Close waits for that goroutine, which ends
// when the client's own timeouts do. Create the client with ContextTimeoutEnabled to spare that goroutine.
func (p *ThunderingHerdProtector) budgeted(ctx context.Context, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.CacheTimeout)
	defer cancel()
	if p.cacheHonoursCtx {
		return op(ctx)
	}
	done := make(chan error, 1)
	started := p.work.goOwned(func() {
		defer func() {
			if r := recover(); r != nil { // nobody could recover it on this goroutine
				done <- fmt.Errorf("day45: redis client panicked: %v", r)
			}
		}()
		done <- op(ctx)
	})
	if !started {
		return ErrClosed
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("day45: redis: %w", ctx.Err())
	}
}

// isCacheFailure reports whether err means Redis did not answer: a reply, even an error reply, is an answer.
func isCacheFailure(err error) bool {
	var reply redis.Error
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, ErrLockNotAcquired) &&
		!errors.Is(err, ErrLockNotHeld) && !errors.As(err, &reply)
}

// writeBack stores a value this process loaded and then releases the lock it loaded under (either may be nil), on
// an owned goroutine: the callers have their answer already. Until the store lands, the value waits in p.pending,
// so that a caller of this process that misses meanwhile does not load again.
func (p *ThunderingHerdProtector) writeBack(key string, d *Data, lock *DistributedLock) {
	var e cacheEntry
	if d != nil {
		var err error
		if e, err = p.entry(key, d, p.cfg.TTL); err != nil {
			d = nil // cannot happen for a *Data; never store what did not encode
		} else {
			p.pending.put(key, d, p.cfg.Now(), p.cfg.CacheBreakerTimeout)
		}
	}
	if d == nil && lock == nil {
		return
	}
	run := func() {
		ctx := context.Background() // no caller waits: each operation is bounded by CacheTimeout alone
		if d != nil && p.put(ctx, e) == nil {
			p.pending.remove(key, d)
		}
		if lock != nil {
			_ = p.cacheDo(ctx, lock.Release)
		}
	}
	if !p.work.goOwned(run) {
		run() // Close has begun: finish inline, within the load that Close is waiting for
	}
}

// maxPending bounds the values kept while Redis cannot take them: past it, a key loads again on its next miss.
const maxPending = 10_000

// pendingValues holds the values this process loaded and has not yet stored in Redis, each until it is stored or
// until one cache cool-down has passed. A Redis outage then costs at most one database load per key per process per
// cool-down. The zero value is empty and ready.
type pendingValues struct {
	mu     sync.Mutex
	values map[string]pendingValue
}

type pendingValue struct {
	data  *Data
	until time.Time
}

// put keeps d for key from now for at most keep.
func (s *pendingValues) put(key string, d *Data, now time.Time, keep time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[string]pendingValue)
	}
	if _, ok := s.values[key]; !ok && len(s.values) >= maxPending {
		for k, v := range s.values { // rare: only when Redis has been failing for many keys
			if !now.Before(v.until) {
				delete(s.values, k)
			}
		}
		if len(s.values) >= maxPending {
			return
		}
	}
	s.values[key] = pendingValue{data: d, until: now.Add(keep)}
}

// get returns a copy of the pending value of key if it is still good at now.
func (s *pendingValues) get(key string, now time.Time) (*Data, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if !ok {
		return nil, false
	}
	if !now.Before(v.until) {
		delete(s.values, key)
		return nil, false
	}
	c := *v.data
	return &c, true
}

// remove drops key's pending value if it is still d (a later load or Set may have replaced it), or any value of
// key when d is nil.
func (s *pendingValues) remove(key string, d *Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok && (d == nil || v.data == d) {
		delete(s.values, key)
	}
}
