//go:build solution

package day45_test

import (
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDistributedLock_Exclusive(t *testing.T) {
	r := testutil.StartRedis(t)
	a := day45.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	b := day45.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	ctx := t.Context()
	require.NoError(t, a.Acquire(ctx), "first Acquire")
	require.ErrorIs(t, b.Acquire(ctx), day45.ErrLockNotAcquired, "second Acquire while held")
	require.ErrorIs(t, b.Release(ctx), day45.ErrLockNotHeld, "Release by the loser")
	require.NoError(t, a.Release(ctx), "Release by the owner")
	require.ErrorIs(t, a.Release(ctx), day45.ErrLockNotHeld, "second Release")
	require.NoError(t, b.Acquire(ctx), "Acquire after release")
	require.NoError(t, b.Release(ctx))
}

func TestDistributedLock_OneAtomicSetWithExpiry(t *testing.T) {
	r := testutil.StartMiniredis(t)
	l := day45.NewDistributedLock(r.Client(t), "lock:k", 1500*time.Millisecond)
	before := r.Mini.CommandCount()
	require.NoError(t, l.Acquire(t.Context()))
	assert.Equal(t, 1, r.Mini.CommandCount()-before,
		"commands Acquire sent, want 1 (SET NX PX; SETNX then EXPIRE leaves an immortal lock if we die in between)")
	assert.Equal(t, 1500*time.Millisecond, r.Mini.TTL("lock:k"), "lock TTL, want 1.5s")
	token, _ := r.Mini.Get("lock:k")
	assert.Regexp(t, `^[0-9a-f]{32}$`, token, "token %q, want 128 random bits as 32 hex digits", token)
}

func TestDistributedLock_TokensAreUnique(t *testing.T) {
	r := testutil.StartMiniredis(t)
	client := r.Client(t)
	seen := map[string]bool{}
	for range 200 {
		l := day45.NewDistributedLock(client, "lock:k", time.Second)
		require.NoError(t, l.Acquire(t.Context()))
		token, _ := r.Mini.Get("lock:k")
		require.NotContains(t, seen, token, "token %q repeated", token)
		seen[token] = true
		require.NoError(t, l.Release(t.Context()))
	}
}

func TestDistributedLock_StaleOwnerCannotReleaseTheNewOwnersLock(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	old := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, old.Acquire(ctx))
	env.Clock.Advance(5 * time.Second) // the old owner paused past its lease: the lock expired
	fresh := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, fresh.Acquire(ctx), "Acquire after expiry")
	newToken, _ := env.Redis.Mini.Get("lock:k")
	require.ErrorIs(t, old.Release(ctx), day45.ErrLockNotHeld, "stale owner's Release")
	got, _ := env.Redis.Mini.Get("lock:k")
	require.Equal(t, newToken, got, "stale owner's Release deleted the new owner's lock")
	assert.NoError(t, fresh.Release(ctx), "new owner's Release")
}

func TestDistributedLock_DeadHolderExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	dead := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, dead.Acquire(t.Context()))
	next := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	env.Clock.Advance(4999 * time.Millisecond)
	require.ErrorIs(t, next.Acquire(t.Context()), day45.ErrLockNotAcquired, "Acquire before the TTL")
	env.Clock.Advance(time.Millisecond)
	assert.NoError(t, next.Acquire(t.Context()), "Acquire once the dead holder's lock expired")
}

func TestDistributedLock_RedisErrors(t *testing.T) {
	l := day45.NewDistributedLock(testutil.DeadClient(t), "lock:k", time.Second)
	err := l.Acquire(t.Context())
	assert.Error(t, err, "Acquire on a dead Redis, want the connection error")
	assert.NotErrorIs(t, err, day45.ErrLockNotAcquired, "Acquire on a dead Redis, want the connection error (not ErrLockNotAcquired)")

	r := testutil.StartMiniredis(t)
	l = day45.NewDistributedLock(r.Client(t), "lock:k", time.Second)
	require.NoError(t, l.Acquire(t.Context()))
	r.Mini.SetError("LOADING")
	err = l.Release(t.Context())
	assert.Error(t, err, "Release on a failing Redis, want the Redis error")
	assert.NotErrorIs(t, err, day45.ErrLockNotHeld, "Release on a failing Redis, want the Redis error")
	r.Mini.SetError("")
	assert.NoError(t, l.Release(t.Context()), "Release retried after Redis recovered (the token must survive a failed Release)")
}
