package day45

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Data is the value the protector caches and the repository loads. Version must grow with every change of the row
// (a row version, or the update time in nanoseconds): a load's write-back never replaces a cached value of a higher
// version, which a Set stored while the load ran (step 08). With equal versions the later write wins.
type Data struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CacheClient is any go-redis client: *redis.Client, *redis.ClusterClient, *redis.Ring.
//
// Create it with ContextTimeoutEnabled set, so that a caller's deadline also bounds the network calls made on its
// behalf, and with the retry budget your latency objective allows: the protector adds no retries of its own.
type CacheClient = redis.UniversalClient

// DataRepository is the database behind the cache.
type DataRepository interface {
	// Load returns the current value of key, or an error wrapping ErrNotFound when the key does not exist.
	Load(ctx context.Context, key string) (*Data, error)
}

// Sentinel errors. Match them with errors.Is: the protector wraps them with the key and the cause.
var (
	// ErrNotFound means the repository has no such key. It is an answer, not a failure: it never opens the breaker.
	ErrNotFound = errors.New("day45: not found")
	// ErrCircuitOpen means the breaker refused to call the database.
	ErrCircuitOpen = errors.New("day45: circuit breaker is open")
	// ErrLockNotAcquired means another owner holds the lock.
	ErrLockNotAcquired = errors.New("day45: lock not acquired")
	// ErrLockNotHeld means Release found the lock expired or taken by another owner.
	ErrLockNotHeld = errors.New("day45: lock not held")
	// ErrLockTimeout means a caller waited LockWait for another process's load and saw no value.
	ErrLockTimeout = errors.New("day45: timed out waiting for the lock holder")
	// ErrOverloaded means a cap refused the call at once instead of queueing it: MaxWaitersPerKey callers already
	// wait for the key's load, or MaxConcurrentLoads database loads already run. Retry later, with backoff and jitter.
	ErrOverloaded = errors.New("day45: overloaded")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("day45: protector is closed")
	// ErrInvalidArgument wraps every rejected input; the message says what was wrong.
	ErrInvalidArgument = errors.New("day45: invalid argument")
)

// maxKeyLen bounds keys: a longer key is almost always a bug (a serialized object used as a key).
const maxKeyLen = 1024
