// Step 03 — Redis distributed lock. Lesson: steps/03-lock/README.md
//
// Build the lock that keeps processes (not just goroutines) from loading the same key together: load in
// protector.go takes it before the database, and a process that loses it waits for the winner's value. Until you
// do, Acquire "succeeds" without touching Redis, so every process loads for itself.
//
// Check: go test ./steps/03-lock/

package day45

import (
	"context"
	"time"
)

// DistributedLock is a Redis lock with automatic expiry, for one owner at a time. Use a value from one goroutine.
//
// It makes duplicate work rare, not impossible: a holder paused longer than the TTL (GC, a stalled VM) loses the
// lock without knowing it while another process takes it. That is fine for deduplicating cache loads. Where two
// holders would corrupt data, the storage itself must reject stale holders, for example with fencing tokens.
type DistributedLock struct {
	client CacheClient
	key    string
	ttl    time.Duration
	token  string // our random value in Redis; non-empty while we believe we hold the lock
}

// NewDistributedLock returns an unheld lock on key that expires ttl after each Acquire.
func NewDistributedLock(client CacheClient, key string, ttl time.Duration) *DistributedLock {
	return &DistributedLock{client: client, key: key, ttl: ttl}
}

// Acquire takes the lock with one SET key token NX PX ttl. It returns an error wrapping ErrLockNotAcquired when
// another owner holds the lock, and one wrapping ErrInvalidArgument for a lock without a client, key or positive ttl.
func (l *DistributedLock) Acquire(ctx context.Context) error {
	// TODO(step 03): reject a nil lock or client, an empty key and a ttl <= 0 (wrap ErrInvalidArgument). Make a
	// fresh token of 128 random bits from crypto/rand (hex is fine). Take the lock with ONE command that sets the
	// value only if the key is absent AND sets its expiry (SET NX PX: SetNX with a ttl, or SetArgs with Mode "NX") —
	// never SETNX then EXPIRE. Key already there: wrap ErrLockNotAcquired. Redis error: return it wrapped. Success:
	// remember the token in l.token.
	return nil
}

// Release deletes the lock if it still holds our token. It returns an error wrapping ErrLockNotHeld when we never
// took it, or it expired and perhaps belongs to another owner now; that owner's lock is left alone.
func (l *DistributedLock) Release(ctx context.Context) error {
	// TODO(step 03): without a token, return ErrLockNotHeld. Otherwise compare the stored value with l.token and
	// delete the key in ONE atomic step: a small Lua script run with a package-level redis.NewScript (a GET then a
	// DEL from Go would race with expiry). Clear l.token; if the script deleted nothing, wrap ErrLockNotHeld.
	return nil
}
