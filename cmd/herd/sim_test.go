package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallOptions are sizes that finish in a fraction of a second, with a deadline no request reaches.
func smallOptions(scenario string, impls ...implKind) *options {
	return &options{
		procs: 2, clients: 20, dbLatency: 5 * time.Millisecond, dbPool: 10, keys: 50,
		timeout: 5 * time.Second, scenarios: []string{scenario}, impls: impls, seed: 1,
	}
}

// simulateOne runs one scenario and returns its results by implementation.
func simulateOne(t *testing.T, o *options) map[implKind]implResult {
	t.Helper()
	var progress strings.Builder
	rep, err := simulate(context.Background(), o, &progress)
	require.NoError(t, err, "simulate")
	require.Len(t, rep.Scenarios, 1, "%d scenarios, want 1", len(rep.Scenarios))
	out := map[implKind]implResult{}
	for _, r := range rep.Scenarios[0].Results {
		out[implKind(r.Impl)] = r
		t.Logf("%s/%s: status %s, requests %d = answered %d + stale %d + errors %d %v; DB queries %d, outage calls %d, peak/bucket %d, timeline %v",
			o.scenarios[0], r.Impl, r.Status, r.Requests, r.Answered, r.Stale, r.Errors, r.ErrorKinds, r.DBQueries,
			r.DBOutageCalls, r.DBPeakPerBucket, r.Timeline)
	}
	assert.Empty(t, rep.Violations, "violations: %q", rep.Violations)
	return out
}

// checkAccounting asserts what must hold of every result: every request sent ends as exactly one outcome.
func checkAccounting(t *testing.T, r implResult, wantRequests int64) {
	t.Helper()
	assert.Equal(t, wantRequests, r.Requests, "%s: %d requests sent, want %d", r.Impl, r.Requests, wantRequests)
	sum := r.Answered + r.Stale + r.Errors
	assert.Equal(t, r.Requests, sum,
		"%s: answered %d + stale %d + errors %d = %d, want the %d requests sent", r.Impl, r.Answered, r.Stale, r.Errors, sum, r.Requests)
	var kinds int64
	for _, n := range r.ErrorKinds {
		kinds += n
	}
	assert.Equal(t, r.Errors, kinds, "%s: error kinds %v add up to %d, want the %d errors", r.Impl, r.ErrorKinds, kinds, r.Errors)
}

func TestHotKey(t *testing.T) {
	t.Parallel()
	o := smallOptions("hotkey", implNone, implReference)
	// A database slower than the whole burst of GETs and with a connection per caller: every no-protection caller
	// misses before the first load is back, so the herd reaches the database.
	o.dbLatency, o.dbPool = 200*time.Millisecond, 40
	res := simulateOne(t, o)
	for _, r := range res {
		checkAccounting(t, r, 40)
		assert.Equal(t, int64(40), r.Answered, "%s: %d of 40 answered with the current version (status %s), want all", r.Impl, r.Answered, r.Status)
		assert.Equal(t, statusOK, r.Status, "%s: %d of 40 answered with the current version (status %s), want all", r.Impl, r.Answered, r.Status)
	}
	n := res[implReference].DBQueries
	assert.Equal(t, int64(1), n, "reference: %d DB queries for 2 processes × 20 goroutines on one expired key, want exactly 1", n)
	n = res[implNone].DBQueries
	assert.Greater(t, n, int64(1), "no protection: %d DB queries, want a herd (> 1)", n)
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	o := smallOptions("expiry", implNone, implReference)
	res := simulateOne(t, o)
	steps := int64(expirySteps)
	for _, r := range res {
		checkAccounting(t, r, steps*50)
		assert.Equal(t, steps*50, r.Answered, "%s: %d answered, want all %d", r.Impl, r.Answered, steps*50)
		// Every key is read once per step and expires once in the window: one load each.
		assert.Equal(t, int64(50), r.DBQueries, "%s: %d DB queries, want one per key (50)", r.Impl, r.DBQueries)
	}
	// Without jitter every key expires in the same step.
	none := res[implNone]
	assert.Equal(t, int64(50), none.DBPeakPerBucket,
		"no protection: peak %d DB queries per step, want all 50 keys in one step; timeline %v", none.DBPeakPerBucket, none.Timeline)
	// With ±20% jitter they spread over the 8 steps of [0.8, 1.2] × TTL.
	ref := res[implReference]
	assert.Less(t, ref.DBPeakPerBucket, int64(50),
		"reference: peak %d DB queries per step, want the 50 spread by jitter; timeline %v", ref.DBPeakPerBucket, ref.Timeline)
}

func TestOutage(t *testing.T) {
	t.Parallel()
	o := smallOptions("outage", implNone, implReference)
	o.clients = 10
	res := simulateOne(t, o)
	const perStep = 2 * 10
	outageRequests := int64(outageSteps * perStep)
	for _, r := range res {
		checkAccounting(t, r, (outageSteps+recoverySteps)*perStep)
	}

	// No protection has nothing cached once the key expires: every request of the outage goes to the dead database
	// and fails, and the first step after it is back is answered.
	none := res[implNone]
	noneMsg := []any{"no protection: %d errors (%v), %d stale; want exactly the %d outage requests failed by the database, none stale",
		none.Errors, none.ErrorKinds, none.Stale, outageRequests}
	assert.Equal(t, outageRequests, none.Errors, noneMsg...)
	assert.Equal(t, outageRequests, none.ErrorKinds["db_down"], noneMsg...)
	assert.Zero(t, none.Stale, noneMsg...)
	assert.Equal(t, outageRequests, none.DBOutageCalls,
		"no protection: %d DB calls during the outage, want one per request (%d)", none.DBOutageCalls, outageRequests)
	if assert.NotNil(t, none.RecoveryMs, "no protection: recovery %v, want 0 (answered from the first step after the outage)", none.RecoveryMs) {
		assert.Zero(t, *none.RecoveryMs, "no protection: recovery %v, want 0 (answered from the first step after the outage)", *none.RecoveryMs)
	}

	// The reference serves the stale value through the outage and stops calling the database.
	ref := res[implReference]
	assert.Zero(t, ref.Errors,
		"reference: %d errors, %d stale; want no errors and at least the %d outage requests stale", ref.Errors, ref.Stale, outageRequests)
	assert.GreaterOrEqual(t, ref.Stale, outageRequests,
		"reference: %d errors, %d stale; want no errors and at least the %d outage requests stale", ref.Errors, ref.Stale, outageRequests)
	assert.Less(t, ref.DBOutageCalls, none.DBOutageCalls,
		"reference: %d DB calls during the outage, want fewer than no protection's %d", ref.DBOutageCalls, none.DBOutageCalls)
	if assert.NotNil(t, ref.RecoveryMs, "reference: recovery %v, want it to recover within the scenario", ref.RecoveryMs) {
		assert.GreaterOrEqual(t, *ref.RecoveryMs, 0.0, "reference: recovery %v, want it to recover within the scenario", *ref.RecoveryMs)
	}
}

func TestSWR(t *testing.T) {
	t.Parallel()
	o := smallOptions("swr", implNone, implReference)
	// A refresh slower than the whole burst: every reader of the reference meets the stale value.
	o.dbLatency, o.dbPool = 300*time.Millisecond, 40
	res := simulateOne(t, o)
	for _, r := range res {
		checkAccounting(t, r, 40)
	}
	ref := res[implReference]
	refMsg := []any{"reference: %d stale answers and %d DB queries, want all 40 answered stale at once and one background refresh",
		ref.Stale, ref.DBQueries}
	assert.Equal(t, int64(40), ref.Stale, refMsg...)
	assert.Equal(t, int64(1), ref.DBQueries, refMsg...)
	none := res[implNone]
	noneMsg := []any{"no protection: %d stale, %d answered, %d DB queries; want every request loaded from the database by a herd",
		none.Stale, none.Answered, none.DBQueries}
	assert.Zero(t, none.Stale, noneMsg...)
	assert.Equal(t, int64(40), none.Answered, noneMsg...)
	assert.Greater(t, none.DBQueries, int64(1), noneMsg...)
}

func TestViral(t *testing.T) {
	t.Parallel()
	o := smallOptions("viral", implNone, implReference)
	// A database that cannot answer the burst before the deadline: 80 cold keys, 2 connections of 50ms each.
	o.dbLatency, o.dbPool, o.timeout, o.bulkhead = 50*time.Millisecond, 2, 400*time.Millisecond, 3
	res := simulateOne(t, o)
	const keys = 2 * 20 * viralFanout
	for _, r := range res {
		checkAccounting(t, r, keys)
	}
	ref, none := res[implReference], res[implNone]
	refMsg := []any{"reference: DB peak %d, %d DB queries, %d answered, error kinds %v; want at most the bulkhead of 2 × 3 " +
		"loads at once and every other call shed", ref.DBPeakConcurrency, ref.DBQueries, ref.Answered, ref.ErrorKinds}
	assert.LessOrEqual(t, ref.DBPeakConcurrency, int64(6), refMsg...)
	assert.Equal(t, ref.Requests, ref.Answered+ref.ErrorKinds["overloaded"], refMsg...)
	assert.Positive(t, ref.ErrorKinds["overloaded"], refMsg...)
	assert.Equal(t, ref.Answered, ref.DBQueries, refMsg...)
	noneMsg := []any{"no protection: DB peak %d, error kinds %v; want the whole burst in the database and deadline errors",
		none.DBPeakConcurrency, none.ErrorKinds}
	assert.Greater(t, none.DBPeakConcurrency, int64(6), noneMsg...)
	assert.Positive(t, none.ErrorKinds["deadline"], noneMsg...)
	assert.Zero(t, none.ErrorKinds["overloaded"], noneMsg...)
}

func TestBulkheadSize(t *testing.T) {
	t.Parallel()
	o := &options{procs: 4, dbPool: 10, dbLatency: 20 * time.Millisecond, timeout: 500 * time.Millisecond}
	assert.Equal(t, 41, o.bulkheadSize(), "defaults: 250 loads within the deadline, two thirds over 4 processes")
	o.bulkhead = 7
	assert.Equal(t, 7, o.bulkheadSize(), "-bulkhead given")
	o.bulkhead, o.dbLatency = 0, 0
	assert.Equal(t, 1, o.bulkheadSize(), "no latency: the pool, two thirds of it over 4 processes, at least 1")
}

func TestLearnerColumnIsAccounted(t *testing.T) {
	t.Parallel()
	// Whatever step the learner is at, each request ends as exactly one outcome and the run succeeds.
	for _, sc := range scenarioNames {
		t.Run(sc, func(t *testing.T) {
			o := smallOptions(sc, implLearner)
			o.procs, o.clients, o.keys = 2, 5, 10
			sent := int64(10)
			switch sc {
			case "expiry":
				sent = int64(expirySteps * 10)
			case "outage":
				sent = int64((outageSteps + recoverySteps) * 10)
			case "redis-outage":
				sent = int64(redisOutageSteps * 10)
				o.timeout = 300 * time.Millisecond // the starter waits for its deadline in every frozen step
			case "viral":
				sent = int64(10 * viralFanout)
			}
			r := simulateOne(t, o)[implLearner]
			checkAccounting(t, r, sent)
		})
	}
}

// stubImpl is an implementation that misbehaves on purpose.
type stubImpl struct {
	get func(ctx context.Context, key string) (record, error)
}

func (s stubImpl) Get(ctx context.Context, key string) (record, error) { return s.get(ctx, key) }
func (s stubImpl) GetStaleWhileRevalidate(ctx context.Context, key string) (record, error) {
	return s.get(ctx, key)
}
func (s stubImpl) Set(context.Context, string, record, time.Duration) error { return nil }
func (s stubImpl) Close() error                                             { return nil }

func stubbed(get func(ctx context.Context, key string) (record, error)) func(implKind, redis.UniversalClient, loader, implConfig) (cacheImpl, error) {
	return func(implKind, redis.UniversalClient, loader, implConfig) (cacheImpl, error) {
		return stubImpl{get}, nil
	}
}

func TestPanicIsOneRequestsError(t *testing.T) {
	t.Parallel()
	o := smallOptions("hotkey", implLearner)
	var mu sync.Mutex
	calls := 0
	o.newImpl = stubbed(func(ctx context.Context, key string) (record, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n%2 == 0 {
			panic("boom")
		}
		return record{Key: key, Value: valueOf(key, 2), Version: 2}, nil
	})
	r := simulateOne(t, o)[implLearner]
	checkAccounting(t, r, 40)
	msg := []any{"status %q, %d answered, errors %v; want panicked, 20 answered, 20 panics", r.Status, r.Answered, r.ErrorKinds}
	assert.Equal(t, statusPanicked, r.Status, msg...)
	assert.Equal(t, int64(20), r.ErrorKinds["panic"], msg...)
	assert.Equal(t, int64(20), r.Answered, msg...)
}

func TestWrongAnswersAreErrors(t *testing.T) {
	t.Parallel()
	o := smallOptions("hotkey", implLearner)
	o.newImpl = stubbed(func(ctx context.Context, key string) (record, error) {
		return record{Key: "other", Value: valueOf("other", 1), Version: 1}, nil
	})
	r := simulateOne(t, o)[implLearner]
	checkAccounting(t, r, 40)
	assert.Equal(t, int64(40), r.ErrorKinds["wrong_answer"], "errors %v, want 40 wrong answers", r.ErrorKinds)
}

func TestHangIsAbandonedAndAccounted(t *testing.T) {
	o := smallOptions("hotkey", implLearner)
	o.budget = 300 * time.Millisecond
	release := make(chan struct{})
	o.newImpl = stubbed(func(ctx context.Context, key string) (record, error) {
		<-release // ignores ctx: a hang
		return record{}, fmt.Errorf("released")
	})
	var r implResult
	func() {
		defer close(release) // let the hung requests end, so that none outlives the test
		r = simulateOne(t, o)[implLearner]
	}()
	checkAccounting(t, r, r.Requests)
	msg := []any{"status %q, %d requests, errors %v; want timed_out with every request sent abandoned", r.Status, r.Requests, r.ErrorKinds}
	assert.Equal(t, statusTimedOut, r.Status, msg...)
	assert.NotZero(t, r.Requests, msg...)
	assert.Equal(t, r.Requests, r.ErrorKinds["abandoned"], msg...)
}

func TestViolations(t *testing.T) {
	t.Parallel()
	o := smallOptions("hotkey", implReference)
	rep := &report{Scenarios: []scenarioResult{{Name: "hotkey", Results: []implResult{
		{Impl: "reference", Status: statusOK, Requests: 10, Answered: 10, DBQueries: 2},
		{Impl: "none", Status: statusOK, Requests: 10, Answered: 9},
		{Impl: "learner", Status: statusTimedOut, Requests: 10, Answered: 10},
	}}}}
	rep.Scenarios = append(rep.Scenarios, scenarioResult{Name: "viral", Results: []implResult{
		{Impl: "reference", Status: statusOK, Requests: 10, Answered: 10, DBQueries: 10, DBPeakConcurrency: int64(2*o.bulkheadSize() + 1)},
		{Impl: "none", Status: statusOK, Requests: 10, Answered: 10, DBQueries: 10, DBPeakConcurrency: 10},
	}})
	v := violations(o, rep)
	require.Len(t, v, 3, "violations = %q", v)
	assert.Contains(t, v[2], fmt.Sprintf("viral/reference: %d DB queries at once, above the bulkhead of 2 processes × %d",
		2*o.bulkheadSize()+1, o.bulkheadSize()), "violations = %q", v)
	assert.Contains(t, v[2], "reproduce: go run ./cmd/herd -scenario viral -impl reference -procs 2", "violations = %q", v)
	assert.Contains(t, v[0], "hotkey/reference: 2 DB queries for one expired key, want exactly 1", "violations = %q", v)
	assert.Contains(t, v[0], "reproduce: go run ./cmd/herd -scenario hotkey -impl reference -procs 2 -clients 20", "violations = %q", v)
	assert.Contains(t, v[1], "none: accounting: answered 9 + stale 0 + errors 0 = 9, but 10 requests were sent", "violations = %q", v)
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		counts []int64
		scale  int64
		want   string
	}{
		{[]int64{0, 1, 500, 1000}, 1000, " ▁▄█"},
		{[]int64{8, 7, 1, 0}, 8, "█▇▁ "},
		{[]int64{0, 0}, 0, "  "},
	} {
		got := sparkline(tc.counts, tc.scale)
		assert.Equal(t, tc.want, got, "sparkline(%v, %d) = %q, want %q", tc.counts, tc.scale, got, tc.want)
	}
}

func TestConstructorErrorIsReported(t *testing.T) {
	t.Parallel()
	o := smallOptions("hotkey", implLearner)
	o.newImpl = func(implKind, redis.UniversalClient, loader, implConfig) (cacheImpl, error) {
		return nil, fmt.Errorf("day45: invalid argument: Config.LockTTL is negative")
	}
	var progress strings.Builder
	rep, err := simulate(context.Background(), o, &progress)
	require.NoError(t, err)
	r := rep.Scenarios[0].Results[0]
	msg := []any{"status %q, %d requests, problems %q; want failed with the constructor's error and nothing sent", r.Status, r.Requests, r.Problems}
	assert.Equal(t, statusFailed, r.Status, msg...)
	assert.Zero(t, r.Requests, msg...)
	if assert.NotEmpty(t, r.Problems, msg...) {
		assert.Contains(t, r.Problems[0], "Config.LockTTL is negative", msg...)
	}
	assert.True(t, rep.OK, "violations %q: a failing learner must not fail the run", rep.Violations)
	var table strings.Builder
	err = writeTable(&table, rep)
	assert.NoError(t, err, "table (err %v):\n%s", err, table.String())
	assert.Contains(t, table.String(), "learner (day45) !", "table (err %v):\n%s", err, table.String())
	assert.Contains(t, table.String(), "FAILED; creating learner: day45: invalid argument", "table (err %v):\n%s", err, table.String())
}

// TestRealRedis runs the scenarios that depend on expiry against the real server of REDIS_ADDR (CI starts one), where
// the simulated clock expires the no-protection keys itself.
func TestRealRedis(t *testing.T) {
	t.Parallel()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		t.Skip("REDIS_ADDR is not set")
	}
	for _, sc := range []string{"hotkey", "expiry"} {
		t.Run(sc, func(t *testing.T) {
			o := smallOptions(sc, implNone, implReference)
			o.redisAddr, o.redisAddrs = addr, []string{addr}
			if sc == "hotkey" {
				o.dbLatency, o.dbPool = 200*time.Millisecond, 40
			}
			res := simulateOne(t, o)
			for _, r := range res {
				msg := []any{"%s: %d requests, answered %d + stale %d + errors %d", r.Impl, r.Requests, r.Answered, r.Stale, r.Errors}
				assert.Equal(t, r.Requests, r.Answered+r.Stale+r.Errors, msg...)
				assert.Zero(t, r.Errors, msg...)
			}
			switch sc {
			case "hotkey":
				n := res[implReference].DBQueries
				assert.Equal(t, int64(1), n, "reference: %d DB queries, want 1", n)
				n = res[implNone].DBQueries
				assert.Greater(t, n, int64(1), "no protection: %d DB queries, want a herd", n)
			case "expiry":
				// The 50 keys expire on the simulated clock, all in one step, although no real second passed.
				r := res[implNone]
				msg := []any{"no protection: %d DB queries, peak %d per step; want 50 in one step", r.DBQueries, r.DBPeakPerBucket}
				assert.Equal(t, int64(50), r.DBQueries, msg...)
				assert.Equal(t, int64(50), r.DBPeakPerBucket, msg...)
			}
		})
	}
	assertNoKeysLeft(t, []string{addr})
}

// assertNoKeysLeft checks that no herd:* key is left on the server, or on any master of the cluster, of addrs.
func assertNoKeysLeft(t *testing.T, addrs []string) {
	t.Helper()
	c := newRedisClient(addrs, nil)
	defer c.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, n redis.UniversalClient) error {
		k, err := scanPrefix(ctx, n, "herd:")
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, k...)
		return err
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	} else {
		err = scan(ctx, c)
	}
	assert.NoError(t, err, "keys left on %v: %v (err %v)", addrs, keys, err)
	assert.Empty(t, keys, "keys left on %v: %v (err %v)", addrs, keys, err)
}
