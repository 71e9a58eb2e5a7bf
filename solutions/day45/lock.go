package day45

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// releaseLua deletes the lock only if it still holds our token. GET then DEL from the client would race: the lock
// could expire and be taken by another owner between the two, and we would delete theirs.
const releaseLua = `if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`

// releaseScript is immutable; Run tries EVALSHA first and falls back to EVAL once per server.
var releaseScript = redis.NewScript(releaseLua)

// DistributedLock is a Redis lock with automatic expiry, for one owner at a time. Use a value from one goroutine.
//
// It makes duplicate work rare, not impossible: a holder paused longer than the TTL (GC, a stalled VM) loses the
// lock without knowing it while another process takes it. That is fine for deduplicating cache loads. Where two
// holders would corrupt data, the storage must reject stale holders itself, for example with fencing tokens.
type DistributedLock struct {
	client CacheClient
	key    string
	ttl    time.Duration
	token  string // non-empty while we believe we hold the lock
}

// NewDistributedLock returns an unheld lock on key that expires ttl after each Acquire.
func NewDistributedLock(client CacheClient, key string, ttl time.Duration) *DistributedLock {
	return &DistributedLock{client: client, key: key, ttl: ttl}
}

// Acquire takes the lock with one SET key token NX PX ttl — never SETNX then EXPIRE, which leaves a lock that never
// expires if the process dies between the two. It returns ErrLockNotAcquired when another owner holds the lock.
func (l *DistributedLock) Acquire(ctx context.Context) error {
	switch {
	case l == nil || l.client == nil:
		return fmt.Errorf("%w: lock without a client", ErrInvalidArgument)
	case l.key == "":
		return fmt.Errorf("%w: empty lock key", ErrInvalidArgument)
	case l.ttl <= 0:
		return fmt.Errorf("%w: lock ttl %v, want > 0 so that a dead holder's lock expires", ErrInvalidArgument, l.ttl)
	}
	token := newLockToken()
	ok, err := l.client.SetNX(ctx, l.key, token, l.ttl).Result()
	if err != nil {
		return fmt.Errorf("day45: acquire lock %q: %w", l.key, err)
	}
	if !ok {
		return fmt.Errorf("%w: %q is held by another owner", ErrLockNotAcquired, l.key)
	}
	l.token = token
	return nil
}

// Release deletes the lock if it still holds our token. It returns ErrLockNotHeld when we never took it, or it
// expired and perhaps belongs to another owner now; that owner's lock is left alone.
func (l *DistributedLock) Release(ctx context.Context) error {
	if l == nil || l.client == nil || l.token == "" {
		return fmt.Errorf("%w: release without a successful Acquire", ErrLockNotHeld)
	}
	n, err := releaseScript.Run(ctx, l.client, []string{l.key}, l.token).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("day45: release lock %q: %w", l.key, err)
	}
	l.token = ""
	if n == 0 {
		return fmt.Errorf("%w: %q expired or was taken by another owner", ErrLockNotHeld, l.key)
	}
	return nil
}

// newLockToken returns 128 random bits. crypto/rand, because a guessable token lets another client release our lock.
func newLockToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24; it crashes the program instead
	return hex.EncodeToString(b[:])
}
