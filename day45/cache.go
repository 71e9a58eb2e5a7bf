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

// The cache is a dependency like the database: it can refuse connections, freeze, or answer slowly. A frozen Redis
// is the worst case, since a client waits out its own timeouts and retries (seconds each) before it fails. So every
// Redis operation of the protector has its own budget, CacheTimeout, and goes through the cache breaker: after
// CacheBreakerThreshold consecutive failures the protector stops calling Redis for CacheBreakerTimeout and answers
// from the database, still through singleflight and the database breaker.

var (
	// errCacheUnavailable is the error of a Redis operation that the open cache breaker did not attempt.
	errCacheUnavailable = errors.New("day45: cache skipped while Redis is failing")
	// errCacheTimeout is the error of a Redis operation that did not answer within CacheTimeout.
	errCacheTimeout = errors.New("day45: redis did not answer within CacheTimeout")
)

// cacheDo runs op within CacheTimeout, through the cache breaker. See cacheRun.
func (p *ThunderingHerdProtector) cacheDo(ctx context.Context, op func(context.Context) error) error {
	c := p.calls.Get().(*cacheCall)
	c.ctx, c.op = ctx, op
	_, err := p.cacheRun(c)
	return err
}

// cacheGet is GET of a data key within CacheTimeout, through the cache breaker: redis.Nil when there is no entry.
// It is the cache hit's one round trip, so it allocates nothing beyond what go-redis does.
func (p *ThunderingHerdProtector) cacheGet(ctx context.Context, key string) ([]byte, error) {
	c := p.calls.Get().(*cacheCall)
	c.ctx, c.op, c.key = ctx, c.get, p.dataKey(key)
	return p.cacheRun(c)
}

// cacheRun runs the prepared call c through the cache breaker and waits for it for at most CacheTimeout and the
// caller's ctx. It returns errCacheUnavailable, without calling Redis, while the breaker is open. Failures are
// counted in CacheErrors; answers such as redis.Nil or a lock held by another owner are not failures, and neither
// is a call whose caller left.
func (p *ThunderingHerdProtector) cacheRun(c *cacheCall) ([]byte, error) {
	ctx := c.ctx
	var val []byte
	var opErr error
	_, err := p.cacheBreaker.Call(func() (any, error) {
		val, opErr = p.await(c)
		if !isCacheFailure(opErr) || ctx.Err() != nil {
			return nil, nil
		}
		return nil, opErr
	})
	switch {
	case errors.Is(err, ErrCircuitOpen):
		p.calls.Put(c.reset())
		p.metrics.cacheSkip()
		return nil, errCacheUnavailable
	case isCacheFailure(opErr) && ctx.Err() == nil:
		p.metrics.cacheError()
		p.cacheFailing.Store(true)
	case opErr == nil || !isCacheFailure(opErr):
		if p.cacheFailing.Load() { // read first: a store on every hit would bounce the cache line between cores
			p.cacheFailing.Store(false)
		}
	}
	return val, opErr
}

// await runs c within the budget and the caller's ctx, whichever ends first. A client that honours deadlines
// runs it on the caller's goroutine (inline). Any other client runs it on a goroutine of its own, that await stops
// waiting for; then c is back in the pool, or owned by its goroutine if abandoned.
//
// Why a goroutine: go-redis ends its waits at a context's deadline only when the client was created with
// ContextTimeoutEnabled; otherwise a frozen server holds a command for ReadTimeout (seconds) per try. Client.WithTimeout
// would shorten that, but its copy drops the application's hooks (tracing, metrics). No library bounds a call on
// any client, so this does, cheaply: calls, their timers and channels are pooled, and the goroutine starts from a
// func value bound once, so a call allocates nothing of its own. Still, the hand-over costs a few microseconds on
// busy cores, which a client with ContextTimeoutEnabled is spared.
func (p *ThunderingHerdProtector) await(c *cacheCall) ([]byte, error) {
	if p.direct || !p.work.begin() {
		return p.inline(c) // or Close has begun, and a load it waits for still writes back: finish it here
	}
	ctx := c.ctx // once abandoned, c belongs to its goroutine: read nothing of it after that
	c.timer.Reset(p.cfg.CacheTimeout)
	go c.exec()
	select {
	case <-c.done:
	case <-c.timer.C:
		if c.state.CompareAndSwap(callStarted, callAbandoned) {
			return nil, fmt.Errorf("%w (%v)", errCacheTimeout, p.cfg.CacheTimeout)
		}
		<-c.done // it finished at the same moment
	case <-ctx.Done():
		if c.state.CompareAndSwap(callStarted, callAbandoned) {
			return nil, ctx.Err()
		}
		<-c.done
	}
	c.timer.Stop()
	val, err := c.val, c.err
	p.calls.Put(c.reset())
	return val, err
}

// inline runs c on the caller's goroutine under a deadline of CacheTimeout: every call when the client honours
// deadlines, otherwise only the loads that Close is waiting for (within the budget as far as the client allows).
func (p *ThunderingHerdProtector) inline(c *cacheCall) ([]byte, error) {
	ctx, cancel := context.WithTimeout(c.ctx, p.cfg.CacheTimeout)
	err := c.call(ctx)
	if err != nil && ctx.Err() != nil && c.ctx.Err() == nil { // the budget ended, not the caller's ctx
		err = fmt.Errorf("%w (%v): %w", errCacheTimeout, p.cfg.CacheTimeout, err)
	}
	cancel()
	val := c.val
	p.calls.Put(c.reset())
	return val, err
}

// honoursDeadlines reports whether client ends its own waits at a context's deadline, as a go-redis client created
// with ContextTimeoutEnabled does, so that the protector can run its calls inline (see await).
func honoursDeadlines(client CacheClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false // another UniversalClient, or a wrapper: assume the worst
}

// cacheCall is one Redis operation of the protector, run on a goroutine of its own (see await). Calls are reused
// through the protector's pool; owner, client, exec, get and the channels are set once and never change.
type cacheCall struct {
	owner  *ThunderingHerdProtector
	client CacheClient
	exec   func() // c.run, bound once so that `go c.exec()` allocates nothing
	get    func(context.Context) error
	done   chan struct{} // buffered: the goroutine never blocks on a caller that left
	timer  *time.Timer

	ctx   context.Context
	op    func(context.Context) error
	key   string // of get
	val   []byte // get's reply
	err   error
	state atomic.Int32
}

// A call is started; then its goroutine finishes it, or its caller abandons it first. Whoever moves it out of
// callStarted decides who returns it to the pool.
const (
	callStarted int32 = iota
	callFinished
	callAbandoned
)

func newCacheCall(p *ThunderingHerdProtector) *cacheCall {
	c := &cacheCall{owner: p, client: p.cache, done: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	c.timer.Stop()
	c.exec = c.run
	c.get = c.getKey
	return c
}

func (c *cacheCall) getKey(ctx context.Context) (err error) {
	c.val, err = c.client.Get(ctx, c.key).Bytes()
	return err
}

// call runs c's operation on ctx. A panic of the client becomes the call's error: on a goroutine of the call's own
// nobody could recover it, and on the caller's it must not escape to the application either.
func (c *cacheCall) call(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("day45: redis client panicked: %v", r)
		}
	}()
	return c.op(ctx)
}

// run is the call's goroutine.
func (c *cacheCall) run() {
	p := c.owner // c may be reused by another caller as soon as done is sent
	defer p.work.end()
	c.err = c.call(c.ctx)
	if c.state.CompareAndSwap(callStarted, callFinished) {
		c.done <- struct{}{}
		return
	}
	c.timer.Stop()
	p.calls.Put(c.reset()) // abandoned: its caller is gone, so it is ours to recycle
}

// reset clears what one use of c left, so that a pooled call holds nothing alive.
func (c *cacheCall) reset() *cacheCall {
	c.ctx, c.op, c.key, c.val, c.err = nil, nil, "", nil, nil
	c.state.Store(callStarted)
	return c
}

// isCacheFailure reports whether err means Redis did not answer: a reply, even an error reply, is an answer.
func isCacheFailure(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, ErrLockNotAcquired) || errors.Is(err, ErrLockNotHeld) {
		return false // checked first: errors.As below allocates, and a hit must not
	}
	var reply redis.Error
	return !errors.As(err, &reply)
}

// writeBack stores a value this process loaded and then releases the lock it loaded under (either may be nil), on
// an owned goroutine: the callers have their answer already. The entry is encoded here, so that its freshness
// counts from the load, not from the store. A Data that JSON cannot encode (a year past 9999) is answered, not cached.
func (p *ThunderingHerdProtector) writeBack(key string, d *Data, lock *DistributedLock, loadTime time.Duration) {
	if d != nil {
		if e, err := p.entry(key, d, p.cfg.TTL, loadTime); err == nil {
			p.storeLoaded(key, &e, d, lock)
			return
		}
	}
	p.storeLoaded(key, nil, nil, lock)
}

// writeBackAbsence remembers that the database lacks key, if absence says so, and releases lock, as writeBack does.
func (p *ThunderingHerdProtector) writeBackAbsence(key string, lock *DistributedLock) {
	if e, ok := p.absence(key); ok {
		p.storeLoaded(key, &e, nil, lock)
		return
	}
	p.storeLoaded(key, nil, nil, lock)
}

// storeLoaded stores e, the entry of d (nil for an absence), with putLoaded and then releases lock; either may be
// nil. Until the store lands, d waits in p.pending, so that a caller of this process that misses meanwhile does not
// load again.
func (p *ThunderingHerdProtector) storeLoaded(key string, e *cacheEntry, d *Data, lock *DistributedLock) {
	if e != nil {
		p.pending.put(key, d, p.cfg.Now(), min(p.cfg.CacheBreakerTimeout, e.expiry))
	}
	if e == nil && lock == nil {
		return
	}
	run := func() {
		ctx := context.Background() // no caller waits: each operation is bounded by CacheTimeout alone
		if e != nil && p.putLoaded(ctx, *e) == nil {
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

// pendingValues holds the values (and absences, a nil Data) this process loaded and has not yet stored in Redis,
// each until it is stored or until one cache cool-down has passed. A Redis outage then costs at most one database
// load per key per process per cool-down. The zero value is empty and ready.
type pendingValues struct {
	mu     sync.Mutex
	values map[string]pendingValue
}

type pendingValue struct {
	data  *Data
	until time.Time
}

// put keeps d (nil: the key's absence) for key from now for at most keep.
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

// get returns a copy of the pending value of key if it is still good at now: nil with true for an absence.
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
	if v.data == nil {
		return nil, true
	}
	c := *v.data
	return &c, true
}

// remove drops key's pending value if it is still d (a later load may have replaced it).
func (s *pendingValues) remove(key string, d *Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok && v.data == d {
		delete(s.values, key)
	}
}

// forget drops key's pending value, whatever it is: a Set replaces it.
func (s *pendingValues) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.values, key)
}
