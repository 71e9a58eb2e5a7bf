//go:build solution

package day45_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

func TestDistributedLock_Exclusive(t *testing.T) {
	r := testutil.StartRedis(t)
	a := day45.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	b := day45.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	ctx := t.Context()
	if err := a.Acquire(ctx); err != nil {
		t.Fatalf("first Acquire: %v", err)
	}
	if err := b.Acquire(ctx); !errors.Is(err, day45.ErrLockNotAcquired) {
		t.Fatalf("second Acquire while held = %v, want ErrLockNotAcquired", err)
	}
	if err := b.Release(ctx); !errors.Is(err, day45.ErrLockNotHeld) {
		t.Fatalf("Release by the loser = %v, want ErrLockNotHeld", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatalf("Release by the owner: %v", err)
	}
	if err := a.Release(ctx); !errors.Is(err, day45.ErrLockNotHeld) {
		t.Fatalf("second Release = %v, want ErrLockNotHeld", err)
	}
	if err := b.Acquire(ctx); err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDistributedLock_OneAtomicSetWithExpiry(t *testing.T) {
	r := testutil.StartMiniredis(t)
	l := day45.NewDistributedLock(r.Client(t), "lock:k", 1500*time.Millisecond)
	before := r.Mini.CommandCount()
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := r.Mini.CommandCount() - before; n != 1 {
		t.Errorf("Acquire sent %d commands, want 1 (SET NX PX; SETNX then EXPIRE leaves an immortal lock if we die in between)", n)
	}
	if ttl := r.Mini.TTL("lock:k"); ttl != 1500*time.Millisecond {
		t.Errorf("lock TTL = %v, want 1.5s", ttl)
	}
	token, _ := r.Mini.Get("lock:k")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(token) {
		t.Errorf("token %q, want 128 random bits as 32 hex digits", token)
	}
}

func TestDistributedLock_TokensAreUnique(t *testing.T) {
	r := testutil.StartMiniredis(t)
	client := r.Client(t)
	seen := map[string]bool{}
	for range 200 {
		l := day45.NewDistributedLock(client, "lock:k", time.Second)
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		token, _ := r.Mini.Get("lock:k")
		if seen[token] {
			t.Fatalf("token %q repeated", token)
		}
		seen[token] = true
		if err := l.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDistributedLock_StaleOwnerCannotReleaseTheNewOwnersLock(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	old := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := old.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(5 * time.Second) // the old owner paused past its lease: the lock expired
	fresh := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := fresh.Acquire(ctx); err != nil {
		t.Fatalf("Acquire after expiry: %v", err)
	}
	newToken, _ := env.Redis.Mini.Get("lock:k")
	if err := old.Release(ctx); !errors.Is(err, day45.ErrLockNotHeld) {
		t.Fatalf("stale owner's Release = %v, want ErrLockNotHeld", err)
	}
	if got, _ := env.Redis.Mini.Get("lock:k"); got != newToken {
		t.Fatalf("stale owner's Release deleted the new owner's lock (now %q)", got)
	}
	if err := fresh.Release(ctx); err != nil {
		t.Fatalf("new owner's Release: %v", err)
	}
}

func TestDistributedLock_DeadHolderExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	dead := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	if err := dead.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	next := day45.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	env.Clock.Advance(4999 * time.Millisecond)
	if err := next.Acquire(t.Context()); !errors.Is(err, day45.ErrLockNotAcquired) {
		t.Fatalf("Acquire before the TTL = %v, want ErrLockNotAcquired", err)
	}
	env.Clock.Advance(time.Millisecond)
	if err := next.Acquire(t.Context()); err != nil {
		t.Fatalf("Acquire once the dead holder's lock expired: %v", err)
	}
}

func TestDistributedLock_RedisErrors(t *testing.T) {
	l := day45.NewDistributedLock(testutil.DeadClient(t), "lock:k", time.Second)
	err := l.Acquire(t.Context())
	if err == nil || errors.Is(err, day45.ErrLockNotAcquired) {
		t.Fatalf("Acquire on a dead Redis = %v, want the connection error (not ErrLockNotAcquired)", err)
	}

	r := testutil.StartMiniredis(t)
	l = day45.NewDistributedLock(r.Client(t), "lock:k", time.Second)
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.Mini.SetError("LOADING")
	if err := l.Release(t.Context()); err == nil || errors.Is(err, day45.ErrLockNotHeld) {
		t.Fatalf("Release on a failing Redis = %v, want the Redis error", err)
	}
	r.Mini.SetError("")
	if err := l.Release(t.Context()); err != nil {
		t.Fatalf("Release retried after Redis recovered: %v (the token must survive a failed Release)", err)
	}
}
