package day45

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Config tunes a ThunderingHerdProtector. Start from DefaultConfig. A zero duration or threshold takes its default;
// StaleTTL, NegativeTTL, JitterPercent, MaxConcurrentLoads and MaxWaitersPerKey are taken as given, because zero is a
// meaningful choice for them (no stale window, no negative caching, no jitter, no cap).
type Config struct {
	TTL              time.Duration    // freshness of values that Get loads (default 5m)
	StaleTTL         time.Duration    // how long past freshness a value may still be served stale (default 1m)
	JitterPercent    float64          // ±fraction applied to every TTL, in [0, 1); 0 disables (default 0.2)
	LockTTL          time.Duration    // auto-expiry of the distributed lock; must cover a load and its write-back (default 5s)
	LockWait         time.Duration    // how long a caller that lost the lock waits for the value (default 6s)
	LockPollInterval time.Duration    // cache polling while waiting (default 20ms)
	LoadTimeout      time.Duration    // budget of one shared database load (default 4s)
	BreakerThreshold int              // consecutive database failures that open the breaker (default 5)
	BreakerTimeout   time.Duration    // how long the breaker stays open before one probe (default 10s)
	KeyPrefix        string           // namespace for data and lock keys (default "")
	Now              func() time.Time // clock for freshness and the breakers; nil means time.Now

	// CacheTimeout is the budget of one Redis operation, whatever the client's own timeouts and retries (default
	// 250ms). A healthy Redis answers in well under a millisecond, and a caller of a busy process also queues for a
	// pooled connection: 100ms failed healthy herds in cmd/herd. 250ms fails only a Redis in trouble, and caps what a
	// frozen one costs a caller at about one budget per Get. With a go-redis client created with ContextTimeoutEnabled
	// the budget is a deadline on the caller's goroutine; with any other client each call runs on a pooled goroutine
	// that the caller stops waiting for, which costs the hit path a few microseconds under parallel load.
	CacheTimeout time.Duration
	// CacheBreakerThreshold is how many consecutive Redis failures open the cache breaker: while it is open the
	// protector does not call Redis and answers from the database through singleflight (default 3).
	CacheBreakerThreshold int
	// CacheBreakerTimeout is the cache breaker's cool-down before one probe of Redis (default 1s).
	CacheBreakerTimeout time.Duration

	// XFetchBeta turns on early recomputation (XFetch, step 07): a hit refreshes its value in the background before
	// it expires, the earlier the longer the value took to load, scaled by XFetchBeta. 1 is the paper's choice;
	// above 1 refreshes earlier. 0, the default, turns it off: values are refreshed only once stale.
	XFetchBeta float64
	// Rand returns a uniform random number in [0, 1) for XFetch; it must be safe for concurrent use. nil means
	// math/rand/v2's Float64. Tests set it to a seeded source.
	Rand func() float64

	// NegativeTTL is how long a key that the database lacks (ErrNotFound) is remembered in Redis, jittered like TTL,
	// so that no process asks the database again meanwhile (negative caching, step 08). Keep it short: a row created
	// meanwhile stays invisible until then, unless it is stored with Set (default 10s). 0 turns it off.
	NegativeTTL time.Duration

	// MaxConcurrentLoads caps the loads this process runs at once, across keys, background refreshes included (a
	// bulkhead, step 09). A load holds its slot from before its lock until its write-back is handed off, and gives
	// it back while it waits for another process's load of its key. A load beyond the cap is refused at once with
	// ErrOverloaded, before its lock (an early refresh, step 07, asks after taking it), and its callers get the
	// stale value if there is one: a load that queued for a slot would start after its callers had given up. Size
	// it to the share of the database's connection pool that this process may use (default 64; a Config made with
	// DefaultConfig before step 09 gets this cap, and can now see ErrOverloaded). 0 means no cap.
	MaxConcurrentLoads int
	// MaxWaitersPerKey caps the callers of one key that wait for its load in this process, the one that runs it
	// included. One more fails at once with ErrOverloaded, or gets the stale value if there is one, instead of
	// queueing behind a slow load (step 09). 0, the default, means no cap: each caller waits until its own deadline.
	MaxWaitersPerKey int

	// QueryBuckets are the upper bounds of the histogram of database query durations (QueryDurations, step 10):
	// positive and strictly increasing. Put bounds around your latency objective and one past LoadTimeout, so that
	// queries that ran into their budget stand apart. nil means DefaultQueryBuckets.
	QueryBuckets []time.Duration
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		TTL:              5 * time.Minute,
		StaleTTL:         time.Minute,
		JitterPercent:    0.2,
		LockTTL:          5 * time.Second,
		LockWait:         6 * time.Second,
		LockPollInterval: 20 * time.Millisecond,
		LoadTimeout:      4 * time.Second,
		BreakerThreshold: 5,
		BreakerTimeout:   10 * time.Second,
		NegativeTTL:      10 * time.Second,

		MaxConcurrentLoads: 64,

		CacheTimeout:          250 * time.Millisecond,
		CacheBreakerThreshold: 3,
		CacheBreakerTimeout:   time.Second,
	}
}

// withDefaults fills the fields whose zero value means nothing useful.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, f := range []struct{ v, def *time.Duration }{
		{&c.TTL, &d.TTL}, {&c.LockTTL, &d.LockTTL}, {&c.LockWait, &d.LockWait},
		{&c.LockPollInterval, &d.LockPollInterval}, {&c.LoadTimeout, &d.LoadTimeout},
		{&c.BreakerTimeout, &d.BreakerTimeout}, {&c.CacheTimeout, &d.CacheTimeout},
		{&c.CacheBreakerTimeout, &d.CacheBreakerTimeout},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if c.BreakerThreshold == 0 {
		c.BreakerThreshold = d.BreakerThreshold
	}
	if c.CacheBreakerThreshold == 0 {
		c.CacheBreakerThreshold = d.CacheBreakerThreshold
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.QueryBuckets == nil {
		c.QueryBuckets = DefaultQueryBuckets()
	}
	return c
}

// lockedCacheOps is how many Redis operations the lock holder makes besides the load: re-check, store, release.
const lockedCacheOps = 3

// validate reports the first problem of a Config that withDefaults has filled.
func (c Config) validate() error {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"TTL", c.TTL}, {"StaleTTL", c.StaleTTL}, {"LockTTL", c.LockTTL}, {"LockWait", c.LockWait},
		{"LockPollInterval", c.LockPollInterval}, {"LoadTimeout", c.LoadTimeout}, {"BreakerTimeout", c.BreakerTimeout},
		{"CacheTimeout", c.CacheTimeout}, {"CacheBreakerTimeout", c.CacheBreakerTimeout}, {"NegativeTTL", c.NegativeTTL},
	} {
		if f.v < 0 {
			return fmt.Errorf("%w: Config.%s is negative (%v)", ErrInvalidArgument, f.name, f.v)
		}
	}
	switch {
	case c.MaxConcurrentLoads < 0 || c.MaxWaitersPerKey < 0:
		return fmt.Errorf("%w: Config.MaxConcurrentLoads (%d) and Config.MaxWaitersPerKey (%d) must not be negative",
			ErrInvalidArgument, c.MaxConcurrentLoads, c.MaxWaitersPerKey)
	case c.BreakerThreshold < 0 || c.CacheBreakerThreshold < 0:
		return fmt.Errorf("%w: Config.BreakerThreshold (%d) and Config.CacheBreakerThreshold (%d) must not be negative",
			ErrInvalidArgument, c.BreakerThreshold, c.CacheBreakerThreshold)
	case !validBounds(c.QueryBuckets):
		return fmt.Errorf("%w: Config.QueryBuckets %v must be positive and strictly increasing", ErrInvalidArgument,
			c.QueryBuckets)
	case math.IsNaN(c.JitterPercent) || c.JitterPercent < 0 || c.JitterPercent >= 1:
		return fmt.Errorf("%w: Config.JitterPercent is %v, want a fraction in [0, 1)", ErrInvalidArgument, c.JitterPercent)
	case math.IsNaN(c.XFetchBeta) || math.IsInf(c.XFetchBeta, 0) || c.XFetchBeta < 0:
		return fmt.Errorf("%w: Config.XFetchBeta is %v, want 0 (off) or a positive number", ErrInvalidArgument, c.XFetchBeta)
	case c.LoadTimeout+lockedCacheOps*c.CacheTimeout > c.LockTTL:
		// The lock must outlive what it guards, or a second process starts the same load: the re-check, the load
		// and the write-back.
		return fmt.Errorf("%w: Config.LockTTL (%v) is shorter than LoadTimeout (%v) + %d×CacheTimeout (%v): the lock "+
			"would expire while its holder still loads or writes back", ErrInvalidArgument, c.LockTTL, c.LoadTimeout,
			lockedCacheOps, c.CacheTimeout)
	}
	return nil
}

// validBounds reports whether bounds are positive and strictly increasing, as NewHistogram requires.
func validBounds(bounds []time.Duration) bool {
	for i, b := range bounds {
		if b <= 0 || i > 0 && b <= bounds[i-1] {
			return false
		}
	}
	return true
}
