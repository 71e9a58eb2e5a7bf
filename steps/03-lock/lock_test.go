package lock_test

// Step 03: the Redis distributed lock in day45/lock.go (see README.md beside this file).

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "see steps/03-lock/README.md"

func TestAcquire_SetsTheKeyWithATokenAndATTL(t *testing.T) {
	r := testutil.StartMiniredis(t)
	l := testutil.NewDistributedLock(r.Client(t), "lock:product:1", 5*time.Second)
	before := r.Mini.CommandCount()
	require.NoError(t, l.Acquire(t.Context()), "Acquire on a free lock — %s", readme)
	require.True(t, r.Mini.Exists("lock:product:1"),
		"Acquire returned nil but Redis has no key lock:product:1: the lock must live in Redis (SET key token NX PX ttl) — %s", readme)
	n := r.Mini.CommandCount() - before
	assert.Equal(t, 1, n, "Acquire sent %d Redis commands; want 1: SETNX then EXPIRE leaves a lock that never expires if the process dies in between — %s", n, readme)
	ttl := r.Mini.TTL("lock:product:1")
	assert.Equal(t, 5*time.Second, ttl, "the lock's TTL is %v; want 5s, so that a dead holder's lock expires — %s", ttl, readme)
	token, _ := r.Mini.Get("lock:product:1")
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-fA-F]{32,}$|^[A-Za-z0-9+/=_-]{22,}$`), token,
		"the lock's value is %q; want a random token of 128 bits from crypto/rand (e.g. 32 hex digits) — %s", token, readme)
}

func TestAcquire_OneOwnerAtATime(t *testing.T) {
	r := testutil.StartRedis(t)
	ctx := t.Context()
	first := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	second := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, first.Acquire(ctx), "first Acquire — %s", readme)
	err := second.Acquire(ctx)
	require.ErrorIs(t, err, testutil.ErrLockNotAcquired, "two processes both hold lock:k (second Acquire = %v); want ErrLockNotAcquired — %s", err, readme)
	require.NoError(t, first.Release(ctx), "the owner's Release — %s", readme)
	require.NoError(t, second.Acquire(ctx), "Acquire after the owner released — %s", readme)
}

func TestRelease_StaleOwnerCannotReleaseTheNewOwnersLock(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	old := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, old.Acquire(ctx), "Acquire — %s", readme)
	env.Clock.Advance(6 * time.Second) // the old owner stalled (GC pause, slow DB) past its lease
	fresh := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, fresh.Acquire(ctx), "Acquire after the old lock expired — %s", readme)
	require.True(t, env.Redis.Mini.Exists("lock:k"), "Acquire returned nil but Redis has no key lock:k: the lock must live in Redis — %s", readme)
	err := old.Release(ctx)
	require.True(t, env.Redis.Mini.Exists("lock:k"),
		"the stale owner's Release deleted the new owner's lock: compare the token and delete in one Lua script — %s", readme)
	assert.ErrorIs(t, err, testutil.ErrLockNotHeld, "the stale owner's Release = %v; want ErrLockNotHeld — %s", err, readme)
	assert.NoError(t, fresh.Release(ctx), "the new owner's Release — %s", readme)
}

func TestAcquire_DeadHoldersLockExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	dead := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, dead.Acquire(ctx), "Acquire — %s", readme)
	// The holder crashes here and never releases.
	next := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	env.Clock.Advance(4 * time.Second)
	err := next.Acquire(ctx)
	require.ErrorIs(t, err, testutil.ErrLockNotAcquired, "Acquire 4s into a 5s lock = %v; want ErrLockNotAcquired — %s", err, readme)
	env.Clock.Advance(time.Second)
	require.NoError(t, next.Acquire(ctx), "the dead holder's lock did not expire after its 5s TTL — %s", readme)
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
	require.Zero(t, r.Failed(), "%d Gets failed, first: %v — %s", r.Failed(), r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d processes x %d goroutines caused %d DB queries; want 1: the lock holder loads, the others wait for its value — %s",
		procs, perProc, got, readme)
}

func TestAcquire_RedisFailureIsNotContention(t *testing.T) {
	l := testutil.NewDistributedLock(testutil.DeadClient(t), "lock:k", 5*time.Second)
	err := l.Acquire(t.Context())
	require.Error(t, err, "Acquire on an unreachable Redis returned nil: return the Redis error — %s", readme)
	assert.NotErrorIs(t, err, testutil.ErrLockNotAcquired,
		"Acquire on an unreachable Redis = %v; want the connection error, not ErrLockNotAcquired: \"someone else holds it\" makes the caller wait for a value that never comes — %s", err, readme)
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
		err := tc.lock.Acquire(t.Context())
		assert.ErrorIs(t, err, testutil.ErrInvalidArgument, "Acquire with %s = %v; want an error wrapping ErrInvalidArgument — %s", tc.name, err, readme)
	}
	keys := r.Mini.Keys()
	assert.Empty(t, keys, "rejected Acquires wrote %v to Redis — %s", keys, readme)
}
