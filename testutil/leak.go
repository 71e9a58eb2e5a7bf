package testutil

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// VerifyNone runs the tests of m and then fails the binary if any goroutine is left behind: a protector that leaks a
// refresh or a waiter per request is a bug this workbook is about. Call it from TestMain.
//
// Nothing is ignored. One goroutine gets more time to end than goleak's half second: once a go-redis pool has failed
// PoolSize dials in a row (a stopped miniredis, DeadClient), it probes the server from a goroutine that sleeps 1s
// between dials and only notices the pool's Close on waking. After a clean Close it ends within DialTimeout + 1s, so
// VerifyNone waits up to proberGrace for it, and only while nothing else is left; a prober of a pool never closed
// still fails the run.
func VerifyNone(m *testing.M) {
	goleak.VerifyTestMain(settle{m})
}

const (
	// miniredisPeer serves one connection of an embedded miniredis, see Quiet.
	miniredisPeer = "github.com/alicebob/miniredis/v2/server.(*Server).servePeer"
	// dialProber is go-redis's background dial prober, see VerifyNone.
	dialProber = "github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"
	// proberGrace exceeds the clients' DialTimeout (2s) plus the prober's 1s sleep.
	proberGrace = 4 * time.Second
)

// settle runs the tests, then waits for closed pools' dial probers to end, so that goleak judges what remains.
type settle struct{ m *testing.M }

func (s settle) Run() int {
	code := s.m.Run()
	if code != 0 {
		return code
	}
	for deadline := time.Now().Add(proberGrace); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if goleak.Find(goleak.IgnoreAnyFunction(dialProber)) != nil {
			break // a real leak: goleak reports it without delay
		}
		if goleak.Find() == nil {
			break // probers, if any, have ended
		}
	}
	return code
}

// Eventually polls cond every millisecond and fails the test if it is still false after within (real time). It is for
// waits on other goroutines that must fail by assertion, never hang.
func Eventually(t testing.TB, cond func() bool, within time.Duration, format string, args ...any) {
	t.Helper()
	poll(t, cond, within, func() string { return fmt.Sprintf(format, args...) })
}

// poll is Eventually with a message computed at failure, so that it reports the numbers of that moment.
func poll(t testing.TB, cond func() bool, within time.Duration, msg func() string) {
	t.Helper()
	if !WaitUntil(cond, within) {
		t.Fatalf("%s (still false after %v)", msg(), within)
	}
}

// WaitUntil polls cond for up to within (real time) and reports whether it became true. It is for a test that must
// go on either way, e.g. to release a held load before it reports what it saw. It polls every millisecond, or less
// often when cond is costly: a goroutine census of a herd stops the world, and polled back to back it would slow
// the herd it watches and burn the test run's CPU. Waiting four times as long as cond took keeps it under a fifth;
// the wait is capped, as a cond that blocked (a Get) has cost no CPU and may be true at once.
func WaitUntil(cond func() bool, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		start := time.Now()
		if cond() {
			return true
		}
		if start.After(deadline) {
			return false
		}
		time.Sleep(min(max(time.Millisecond, 4*time.Since(start)), maxPollGap))
	}
}

// maxPollGap is the longest WaitUntil sleeps between two calls of cond.
const maxPollGap = 25 * time.Millisecond

// Quiet waits until every goroutine started since base (goleak.IgnoreCurrent() taken then) has ended: the
// protector's background work, such as a refresh and its write-back, is done. The two goroutines with which an
// embedded miniredis serves each connection do not count: a connection a herd opened stays in its client's pool.
// It fails the test with msg after 5s of real time.
func Quiet(t testing.TB, base goleak.Option, msg string) {
	t.Helper()
	var err error
	quiet := func() bool {
		err = goleak.Find(base, goleak.IgnoreAnyFunction(miniredisPeer), goleak.IgnoreAnyFunction(miniredisPeer+".func2"))
		return err == nil
	}
	if !WaitUntil(quiet, waitLimit) {
		t.Fatalf("%s: background work still running after %v:\n%v", msg, waitLimit, err)
	}
}
