package shedding_test

// Step 09 (advanced): load shedding, in day45/shedding.go (see README.md beside this file).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/09-shedding/README.md を参照"

// settle bounds the wait for a herd to split into callers that answered and callers that wait for the held
// database. A correct shedder splits it in milliseconds; a wrong one never does, and the test reports what it saw.
const settle = 3 * time.Second

// config is the Env's Config without jitter, with the caps given.
func config(env *testutil.Env, maxLoads, maxWaiters int) testutil.Config {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	cfg.MaxConcurrentLoads = maxLoads
	cfg.MaxWaitersPerKey = maxWaiters
	return cfg
}

// result is one Get's answer.
type result struct {
	d   *testutil.Data
	err error
}

// getKey is one caller of a herd: its frame tells the callers that wait for the database from the others.
func getKey(p *testutil.Protector, key string, out chan<- result) {
	d, err := p.Get(context.Background(), key)
	out <- result{d, err}
}

// waiting counts the callers of getKey that wait for a shared load: parked in a select in the flight group (or, with
// step 02 undone, in the database). A caller blocked on a mutex on its way there does not count yet.
func waiting() int { return testutil.Parked("[select", "shedding_test.getKey(", "(*flightGroup).do(") }

// answered drains the results that have arrived, without waiting.
func answered(out <-chan result, got []result) []result {
	for {
		select {
		case r := <-out:
			got = append(got, r)
		default:
			return got
		}
	}
}

// overloaded counts the results that are ErrOverloaded.
func overloaded(rs []result) int {
	n := 0
	for _, r := range rs {
		if errors.Is(r.err, testutil.ErrOverloaded) {
			n++
		}
	}
	return n
}

func TestBulkhead_CapsTheLoadsAcrossKeys(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	const keys, limit = 200, 8
	p := env.Protector(t, config(env, limit, 0))
	env.Repo.Hold()
	out := make(chan result, keys)
	for i := range keys {
		go getKey(p, fmt.Sprintf("cold:%03d", i), out)
	}
	// Every caller either answered or waits in the database; a caller queued elsewhere is neither.
	var got []result
	testutil.WaitUntil(func() bool {
		got = answered(out, got)
		return len(got)+int(env.Repo.InFlight()) >= keys
	}, settle)
	inDB, early := env.Repo.MaxInFlight(), len(got)
	env.Repo.Release()
	for len(got) < keys {
		got = append(got, <-out)
	}
	for _, r := range got {
		if r.err != nil && strings.Contains(r.err.Error(), "MaxWaitersPerKey") {
			require.Fail(t, "MaxWaitersPerKey が 0 なのに、待つ人数の上限で断られました",
				"MaxWaitersPerKey が 0 なのに、待つ人数の上限で断られた呼び出しがあります（%v）。0 は「上限なし」で、「0 人まで」ではない — %s", r.err, readme)
		}
	}
	assert.LessOrEqual(t, inDB, int64(limit),
		"別々の冷えたキー %d 個を同時に Get したら、DB が同時に %d 本のクエリを抱えました。期待は MaxConcurrentLoads（%d）本まで。startLoad で semaphore のスロットを取り、取れなければ false を返すこと — %s",
		keys, inDB, limit, readme)
	assert.Equal(t, keys-limit, early,
		"DB が詰まっている間に答えが返ったのは %d 人でした。期待は %d 人（スロットの取れなかった全員）が DB を待たずにすぐ ErrOverloaded で返ること。Acquire で順番を待たせず TryAcquire で断ること — %s",
		early, keys-limit, readme)
	assert.Equal(t, keys-limit, overloaded(got),
		"ErrOverloaded を受け取ったのは %d 人でした。期待は %d 人 — %s", overloaded(got), keys-limit, readme)
	assert.Equal(t, int64(keys-limit), p.GetMetrics().Shed,
		"GetMetrics().Shed が %d でした。期待は断られた呼び出しの数 %d（Step 06 の metrics.go の shed が数える） — %s",
		p.GetMetrics().Shed, keys-limit, readme)
}

func TestBulkhead_ShedCallerGetsTheStaleValue(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := config(env, 1, 0)
	p := env.Protector(t, cfg)
	_, err := p.Get(t.Context(), "stale")
	require.NoError(t, err, "the first Get of key stale")
	env.WaitWriteBack(t, "stale", "lock:stale")
	env.Clock.Advance(cfg.TTL + time.Second) // stale, still within StaleTTL

	env.Repo.Hold()
	out := make(chan result, 2)
	go getKey(p, "busy", out) // takes the only slot
	env.Repo.WaitInFlight(t, 1, "the load of key busy did not reach the DB")
	go getKey(p, "stale", out)
	var got []result
	testutil.WaitUntil(func() bool {
		got = answered(out, got)
		return len(got) > 0 || env.Repo.LoadsOf("stale") > 1
	}, settle)
	loads := env.Repo.LoadsOf("stale")
	env.Repo.Release()
	for len(got) < 2 {
		got = append(got, <-out)
	}
	assert.Equal(t, int64(1), loads,
		"ただ 1 つのスロットが埋まっているのに、新鮮でない値のあるキーの読み込みが DB に届きました（キー stale のクエリは最初の Get を含めて %d 回、期待は最初の Get の 1 回だけ）。断られた呼び出し元には新鮮でない値を返す — %s", loads, readme)
	var stale result
	for _, r := range got {
		if r.d != nil && r.d.Key == "stale" || r.err != nil {
			stale = r
		}
	}
	require.NoError(t, stale.err, "DB のスロットが埋まっているときの、新鮮でない値のあるキーの Get — %s", readme)
	assert.Equal(t, "value:stale", stale.d.Value, "the stale value")
}

func TestWaiters_CapPerKey(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	const callers, limit = 50, 10
	p := env.Protector(t, config(env, 0, limit))
	env.Repo.Hold()
	out := make(chan result, callers)
	for range callers {
		go getKey(p, "hot", out)
	}
	var got []result
	testutil.WaitUntil(func() bool {
		got = answered(out, got)
		return len(got)+waiting() >= callers && env.Repo.InFlight() >= 1 // the waiters park before the load arrives
	}, settle)
	early, loads := len(got), env.Repo.Loads()
	env.Repo.Release()
	for len(got) < callers {
		got = append(got, <-out)
	}
	require.NotZero(t, loads,
		"MaxConcurrentLoads が 0 なのに、読み込みが 1 本も DB に届きませんでした。0 は「上限なし」で、「0 本まで」ではない — %s", readme)
	assert.Equal(t, callers-limit, early,
		"1 つのキーを %d 人が同時に Get し、DB が詰まっている間に答えが返ったのは %d 人でした。期待は %d 人：待つのは MaxWaitersPerKey（%d）人まで、残りはすぐ ErrOverloaded。join で、数を調べるのと 1 足すのを同じロックの中で — %s",
		callers, early, callers-limit, limit, readme)
	assert.Equal(t, callers-limit, overloaded(got),
		"ErrOverloaded を受け取ったのは %d 人でした。期待は %d 人 — %s", overloaded(got), callers-limit, readme)
	assert.Equal(t, int64(1), loads, "one load for the key (singleflight, step 02)")
}

// TestShedding_CapsAreGivenBack runs loads that fail, panic and succeed, and callers that leave at their deadline,
// and then checks that the caps admit as many as at the start: every slot and every waiter was given back.
func TestShedding_CapsAreGivenBack(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	const limit = 3
	p := env.Protector(t, config(env, limit, limit))
	env.Repo.Fail(errors.New("db down"))
	for i := range limit {
		_, err := p.Get(t.Context(), fmt.Sprintf("failing:%d", i))
		require.Error(t, err, "a Get while the DB fails")
	}
	env.Repo.Fail(nil)
	env.Repo.Panic("driver bug")
	_, err := p.Get(t.Context(), "panicking")
	require.Error(t, err, "a Get while the DB panics")
	env.Repo.Panic(nil)
	for i := range 2 * limit {
		_, err := p.Get(t.Context(), fmt.Sprintf("ok:%d", i))
		require.NoError(t, err,
			"DB が失敗・パニックした後、健全な DB への Get が失敗しました。読み込みが失敗してもパニックしても、endLoad でスロットを返すこと — %s", readme)
	}
	env.Repo.Hold()
	for range limit { // callers that give up on a held load, which then fails: key slow stays uncached
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		_, err := p.Get(ctx, "slow")
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "a Get that gives up on a held load")
	}
	env.Repo.Fail(errors.New("db down"))
	env.Repo.Release()
	testutil.Eventually(t, func() bool { return env.Repo.InFlight() == 0 }, settle, "the held load did not end")
	env.Repo.Fail(nil)

	// Two loads of their own and one of key slow: as many as the bulkhead admits. Key slow has one caller more
	// than MaxWaitersPerKey.
	env.Repo.Hold()
	const herd = 2 + limit + 1
	out := make(chan result, herd)
	go getKey(p, "after:1", out)
	go getKey(p, "after:2", out)
	for range limit + 1 {
		go getKey(p, "slow", out)
	}
	var got []result
	testutil.WaitUntil(func() bool {
		got = answered(out, got)
		return len(got)+waiting() >= herd && env.Repo.InFlight() >= limit
	}, settle)
	inDB, early := env.Repo.InFlight(), got
	env.Repo.Release()
	for len(got) < herd {
		got = append(got, <-out)
	}
	assert.Equal(t, int64(limit), inDB,
		"失敗・パニック・成功した読み込みの後、%d 本の読み込みのうち DB に届いたのは %d 本でした。期待は %d 本（MaxConcurrentLoads）。どの読み込みの後にも endLoad でスロットを返すこと — %s",
		limit, inDB, limit, readme)
	assert.Equal(t, 1, overloaded(early),
		"キー slow を %d 人が待とうとして、すぐ断られたのは %d 人でした。期待は 1 人（MaxWaitersPerKey = %d）。0 人なら join が上限を見ていない。2 人以上なら、期限で帰った呼び出しの分を leave で戻していない — %s",
		limit+1, overloaded(early), limit, readme)
}
