package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	learner "day45-thundering-herd/day45"
	reference "day45-thundering-herd/solutions/day45"
)

// cacheImpl is one process's view of a cache in front of the fake database: the simulator runs every scenario
// against each implementation through it. It returns the record as it was answered; whether it was stale is the
// simulator's call, made against the database, never the implementation's.
type cacheImpl interface {
	Get(ctx context.Context, key string) (record, error)
	GetStaleWhileRevalidate(ctx context.Context, key string) (record, error)
	Set(ctx context.Context, key string, r record, ttl time.Duration) error
	Close() error
}

// implKind names an implementation.
type implKind string

const (
	implNone      implKind = "none"      // plain cache-aside, in this file
	implLearner   implKind = "learner"   // day45-thundering-herd/day45
	implReference implKind = "reference" // day45-thundering-herd/solutions/day45
)

var allImpls = []implKind{implNone, implLearner, implReference}

// label is the row title in the table.
func (k implKind) label() string {
	switch k {
	case implNone:
		return "no protection"
	case implLearner:
		return "learner (day45)"
	case implReference:
		return "reference (solutions/day45)"
	}
	return string(k)
}

// implConfig is what every implementation of one run shares. Durations other than the request deadline are on the
// simulated clock, as the protectors see it through Now.
type implConfig struct {
	TTL              time.Duration
	StaleTTL         time.Duration
	JitterPercent    float64
	LockTTL          time.Duration
	LockWait         time.Duration
	LockPollInterval time.Duration
	LoadTimeout      time.Duration
	BreakerThreshold int
	BreakerTimeout   time.Duration
	KeyPrefix        string
	MaxLoads         int              // MaxConcurrentLoads: the bulkhead, per process
	Now              func() time.Time `json:"-"` // each process's own: a worker's is a copy of the parent's clock

	ttlEmulator keyExpirer // on a real Redis: expires the cache-aside keys on the simulated clock
}

// loader is the fake database as a process sees it: the fakeDB itself, or with -spawn its loopback server
// (remoteDB).
type loader interface {
	Load(ctx context.Context, key string) (record, error)
}

// keyExpirer expires a cache-aside key at an instant of the simulated clock: the ttlEmulator, or with -spawn the
// parent's over loopback.
type keyExpirer interface {
	expireAt(key string, at time.Time)
}

// newImpl returns a process of kind k on its own Redis client.
func newImpl(k implKind, client redis.UniversalClient, db loader, cfg implConfig) (cacheImpl, error) {
	switch k {
	case implNone:
		return &cacheAside{client: client, db: db, ttl: cfg.TTL, prefix: cfg.KeyPrefix, now: cfg.Now, emu: cfg.ttlEmulator}, nil
	case implLearner:
		p, err := learner.NewThunderingHerdProtector(client, repoOf[learner.Data]{db, learner.ErrNotFound}, cfg.learner())
		if err != nil {
			return nil, err
		}
		return protectorImpl[learner.Data]{p}, nil
	case implReference:
		p, err := reference.NewThunderingHerdProtector(client, repoOf[reference.Data]{db, reference.ErrNotFound}, cfg.reference())
		if err != nil {
			return nil, err
		}
		return protectorImpl[reference.Data]{p}, nil
	}
	return nil, fmt.Errorf("unknown implementation %q", k)
}

// learner and reference start from each package's DefaultConfig, so a field added to Config keeps its default.
func (c implConfig) learner() learner.Config {
	d := learner.DefaultConfig()
	d.TTL, d.StaleTTL, d.JitterPercent, d.MaxConcurrentLoads = c.TTL, c.StaleTTL, c.JitterPercent, c.MaxLoads
	d.LockTTL, d.LockWait, d.LockPollInterval, d.LoadTimeout = c.LockTTL, c.LockWait, c.LockPollInterval, c.LoadTimeout
	d.BreakerThreshold, d.BreakerTimeout, d.KeyPrefix, d.Now = c.BreakerThreshold, c.BreakerTimeout, c.KeyPrefix, c.Now
	return d
}

func (c implConfig) reference() reference.Config {
	d := reference.DefaultConfig()
	d.TTL, d.StaleTTL, d.JitterPercent, d.MaxConcurrentLoads = c.TTL, c.StaleTTL, c.JitterPercent, c.MaxLoads
	d.LockTTL, d.LockWait, d.LockPollInterval, d.LoadTimeout = c.LockTTL, c.LockWait, c.LockPollInterval, c.LoadTimeout
	d.BreakerThreshold, d.BreakerTimeout, d.KeyPrefix, d.Now = c.BreakerThreshold, c.BreakerTimeout, c.KeyPrefix, c.Now
	return d
}

var errNilAnswer = errors.New("nil *Data without an error")

// ---- no protection: the textbook cache-aside loop ----

// cacheAside is what a cache without any defense does: GET; on a miss, load from the database and SET with the TTL.
// A Redis error is treated as a miss, as naive code does.
type cacheAside struct {
	client redis.UniversalClient
	db     loader
	ttl    time.Duration
	prefix string
	now    func() time.Time
	emu    keyExpirer // non-nil on a real Redis: the simulated clock expires the key (see simClock)
}

func (c *cacheAside) Get(ctx context.Context, key string) (record, error) {
	if b, err := c.client.Get(ctx, c.prefix+key).Bytes(); err == nil {
		var r record
		if json.Unmarshal(b, &r) == nil {
			return r, nil
		}
	}
	r, err := c.db.Load(ctx, key)
	if err != nil {
		return record{}, err
	}
	_ = c.Set(ctx, key, r, c.ttl)
	return r, nil
}

// GetStaleWhileRevalidate is Get: cache-aside has no stale window.
func (c *cacheAside) GetStaleWhileRevalidate(ctx context.Context, key string) (record, error) {
	return c.Get(ctx, key)
}

func (c *cacheAside) Set(ctx context.Context, key string, r record, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if c.emu == nil {
		return c.client.Set(ctx, c.prefix+key, b, ttl).Err()
	}
	c.emu.expireAt(c.prefix+key, c.now().Add(ttl))
	return c.client.Set(ctx, c.prefix+key, b, ttl+realTTLSlack).Err()
}

func (c *cacheAside) Close() error { return nil }

// ---- the protectors: learner day45 and reference solutions/day45 ----
// Their Data types have the same fields as record, so one generic adapter serves both packages.

// data is the Data type of either package.
type data interface{ learner.Data | reference.Data }

// protectorOf is the part of a ThunderingHerdProtector that the simulator uses.
type protectorOf[D data] interface {
	Get(ctx context.Context, key string) (*D, error)
	GetStaleWhileRevalidate(ctx context.Context, key string) (*D, error)
	Set(ctx context.Context, key string, value *D, ttl time.Duration) error
	Close() error
}

// repoOf serves the fake database to a protector whose Data is D; notFound is that package's ErrNotFound.
type repoOf[D data] struct {
	db       loader
	notFound error
}

func (r repoOf[D]) Load(ctx context.Context, key string) (*D, error) {
	rec, err := r.db.Load(ctx, key)
	if errors.Is(err, errNoSuchKey) {
		return nil, fmt.Errorf("%w: %w", r.notFound, err)
	}
	if err != nil {
		return nil, err
	}
	d := D(rec)
	return &d, nil
}

type protectorImpl[D data] struct{ p protectorOf[D] }

func (i protectorImpl[D]) Get(ctx context.Context, key string) (record, error) {
	return toRecord(i.p.Get(ctx, key))
}

func (i protectorImpl[D]) GetStaleWhileRevalidate(ctx context.Context, key string) (record, error) {
	return toRecord(i.p.GetStaleWhileRevalidate(ctx, key))
}

func (i protectorImpl[D]) Set(ctx context.Context, key string, r record, ttl time.Duration) error {
	d := D(r)
	return i.p.Set(ctx, key, &d, ttl)
}

func (i protectorImpl[D]) Close() error { return i.p.Close() }

func toRecord[D data](d *D, err error) (record, error) {
	switch {
	case err != nil:
		return record{}, err
	case d == nil:
		return record{}, errNilAnswer
	}
	return record(*d), nil
}

// errorKind sorts an error a caller received into a few kinds for the report.
func errorKind(err error) string {
	var pe *panicError
	var ke *kindError
	switch {
	case errors.As(err, &ke):
		return ke.kind
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, errAbandoned):
		return "abandoned"
	case errors.Is(err, errWrongAnswer), errors.Is(err, errNilAnswer):
		return "wrong_answer"
	case errors.Is(err, learner.ErrCircuitOpen), errors.Is(err, reference.ErrCircuitOpen):
		return "circuit_open"
	case errors.Is(err, learner.ErrLockTimeout), errors.Is(err, reference.ErrLockTimeout):
		return "lock_timeout"
	case errors.Is(err, learner.ErrOverloaded), errors.Is(err, reference.ErrOverloaded):
		return "overloaded"
	case errors.Is(err, errDBDown):
		return "db_down"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

// kindError is an error that a worker process sorted (-spawn): its kind, and its message, cross the wire; the
// error types of the packages do not.
type kindError struct{ kind, msg string }

func (e *kindError) Error() string { return e.msg }
