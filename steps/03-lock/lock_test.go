package lock_test

// Step 03: the Redis distributed lock in day45/lock.go (see README.md beside this file).

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"day45-thundering-herd/testutil"
)

const readme = "see steps/03-lock/README.md"

func TestAcquire_SetsTheKeyWithATokenAndATTL(t *testing.T) {
	r := testutil.StartMiniredis(t)
	l := testutil.NewDistributedLock(r.Client(t), "lock:product:1", 5*time.Second)
	before := r.Mini.CommandCount()
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatalf("Acquire on a free lock: %v — %s", err, readme)
	}
	if !r.Mini.Exists("lock:product:1") {
		t.Fatalf("Acquire returned nil but Redis has no key lock:product:1: the lock must live in Redis (SET key token NX PX ttl) — %s", readme)
	}
	if n := r.Mini.CommandCount() - before; n != 1 {
		t.Errorf("Acquire sent %d Redis commands; want 1: SETNX then EXPIRE leaves a lock that never expires if the process dies in between — %s", n, readme)
	}
	if ttl := r.Mini.TTL("lock:product:1"); ttl != 5*time.Second {
		t.Errorf("the lock's TTL is %v; want 5s, so that a dead holder's lock expires — %s", ttl, readme)
	}
	token, _ := r.Mini.Get("lock:product:1")
	if !regexp.MustCompile(`^[0-9a-fA-F]{32,}$|^[A-Za-z0-9+/=_-]{22,}$`).MatchString(token) {
		t.Errorf("the lock's value is %q; want a random token of 128 bits from crypto/rand (e.g. 32 hex digits) — %s", token, readme)
	}
}

func TestAcquire_OneOwnerAtATime(t *testing.T) {
	r := testutil.StartRedis(t)
	ctx := t.Context()
	first := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	second := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	if err := first.Acquire(ctx); err != nil {
		t.Fatalf("first Acquire: %v — %s", err, readme)
	}
	if err := second.Acquire(ctx); !errors.Is(err, testutil.ErrLockNotAcquired) {
		t.Fatalf("two processes both hold lock:k (second Acquire = %v); want ErrLockNotAcquired — %s", err, readme)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatalf("the owner's Release: %v — %s", err, readme)
	}
	if err := second.Acquire(ctx); err != nil {
		t.Fatalf("Acquire after the owner released: %v — %s", err, readme)
	}
}

func TestRelease_StaleOwnerCannotReleaseTheNewOwnersLock(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	old := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := old.Acquire(ctx); err != nil {
		t.Fatalf("Acquire: %v — %s", err, readme)
	}
	env.Clock.Advance(6 * time.Second) // the old owner stalled (GC pause, slow DB) past its lease
	fresh := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := fresh.Acquire(ctx); err != nil {
		t.Fatalf("Acquire after the old lock expired: %v — %s", err, readme)
	}
	if !env.Redis.Mini.Exists("lock:k") {
		t.Fatalf("Acquire returned nil but Redis has no key lock:k: the lock must live in Redis — %s", readme)
	}
	err := old.Release(ctx)
	if !env.Redis.Mini.Exists("lock:k") {
		t.Fatalf("the stale owner's Release deleted the new owner's lock: compare the token and delete in one Lua script — %s", readme)
	}
	if !errors.Is(err, testutil.ErrLockNotHeld) {
		t.Errorf("the stale owner's Release = %v; want ErrLockNotHeld — %s", err, readme)
	}
	if err := fresh.Release(ctx); err != nil {
		t.Errorf("the new owner's Release: %v — %s", err, readme)
	}
}

func TestAcquire_DeadHoldersLockExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	dead := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := dead.Acquire(ctx); err != nil {
		t.Fatalf("Acquire: %v — %s", err, readme)
	}
	// The holder crashes here and never releases.
	next := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	env.Clock.Advance(4 * time.Second)
	if err := next.Acquire(ctx); !errors.Is(err, testutil.ErrLockNotAcquired) {
		t.Fatalf("Acquire 4s into a 5s lock = %v; want ErrLockNotAcquired — %s", err, readme)
	}
	env.Clock.Advance(time.Second)
	if err := next.Acquire(ctx); err != nil {
		t.Fatalf("the dead holder's lock did not expire after its 5s TTL: %v — %s", err, readme)
	}
}

func TestGet_ProcessesLoadOnce(t *testing.T) {
	env := testutil.NewRealEnv(t)
	const procs, perProc = 4, 100
	ps := make([]*testutil.Protector, procs)
	for i := range ps {
		cfg := env.Config()
		cfg.JitterPercent = 0
		cfg.LockPollInterval = time.Millisecond
		ps[i] = env.Protector(t, cfg) // each with its own Redis client: a separate process
	}
	env.Repo.SetLatency(50 * time.Millisecond)
	r := testutil.Herd(procs*perProc, func(i int) error {
		_, err := ps[i%procs].Get(context.Background(), "product:1")
		return err
	})
	if r.Failed() != 0 {
		t.Fatalf("%d Gets failed, first: %v — %s", r.Failed(), r.FirstErr(), readme)
	}
	if got := env.Repo.Loads(); got != 1 {
		t.Errorf("%d processes x %d goroutines caused %d DB queries; want 1: the lock holder loads, the others wait for its value — %s",
			procs, perProc, got, readme)
	}
}

func TestAcquire_RedisFailureIsNotContention(t *testing.T) {
	l := testutil.NewDistributedLock(testutil.DeadClient(t), "lock:k", 5*time.Second)
	err := l.Acquire(t.Context())
	if err == nil {
		t.Fatalf("Acquire on an unreachable Redis returned nil: return the Redis error — %s", readme)
	}
	if errors.Is(err, testutil.ErrLockNotAcquired) {
		t.Errorf("Acquire on an unreachable Redis = %v; want the connection error, not ErrLockNotAcquired: \"someone else holds it\" makes the caller wait for a value that never comes — %s", err, readme)
	}
}

func TestAcquire_RejectsBadInput(t *testing.T) {
	r := testutil.StartMiniredis(t)
	client := r.Client(t)
	for _, tc := range []struct {
		name string
		lock *testutil.DistributedLock
	}{
		{"ttl 0 (a lock that never expires)", testutil.NewDistributedLock(client, "lock:k", 0)},
		{"negative ttl", testutil.NewDistributedLock(client, "lock:k", -time.Second)},
		{"empty key", testutil.NewDistributedLock(client, "", time.Second)},
		{"nil client", testutil.NewDistributedLock(nil, "lock:k", time.Second)},
	} {
		if err := tc.lock.Acquire(t.Context()); !errors.Is(err, testutil.ErrInvalidArgument) {
			t.Errorf("Acquire with %s = %v; want an error wrapping ErrInvalidArgument — %s", tc.name, err, readme)
		}
	}
	if keys := r.Mini.Keys(); len(keys) != 0 {
		t.Errorf("rejected Acquires wrote %v to Redis — %s", keys, readme)
	}
}
