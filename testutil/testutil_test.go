package testutil

// Tests of the helpers themselves. They use only the Data and ErrNotFound aliases of the implementation under test,
// never its behaviour, so they pass in learner and solution mode alike.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { VerifyNone(m) }

// within bounds the real-time waits of these tests.
const within = 5 * time.Second

func TestClock_StartsAt2026AndAdvances(t *testing.T) {
	c := NewClock(time.Time{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.WithinDuration(t, start, c.Now(), 0, "NewClock(zero).Now() = %v, want %v", c.Now(), start)
	c.Advance(90 * time.Second)
	assert.WithinDuration(t, start.Add(90*time.Second), c.Now(), 0, "after Advance(90s) Now() = %v", c.Now())
	other := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	assert.WithinDuration(t, other, NewClock(other).Now(), 0, "NewClock(%v).Now()", other)
}

func TestClock_ConcurrentUse(t *testing.T) {
	c := NewClock(time.Time{})
	start := c.Now()
	mr := miniredis.NewMiniRedis() // attached but never started: FastForward works on the data alone
	c.Attach(mr)
	Herd(100, func(i int) error {
		if i%2 == 0 {
			c.Advance(time.Second)
		} else {
			_ = c.Now()
		}
		return nil
	})
	assert.Equal(t, 50*time.Second, c.Now().Sub(start), "50 concurrent Advance(1s) moved the clock by %v", c.Now().Sub(start))
}

func TestClock_CannotGoBack(t *testing.T) {
	assert.Panics(t, func() { NewClock(time.Time{}).Advance(-time.Second) }, "Advance(-1s) did not panic")
}

func TestClock_AdvanceExpiresMiniredisKeysExactlyAtTheTTL(t *testing.T) {
	r := StartMiniredis(t)
	c := NewClock(time.Time{})
	c.Attach(r.Mini)
	client := r.Client(t)
	ctx := t.Context()

	now, err := client.Time(ctx).Result()
	require.NoError(t, err)
	require.WithinDuration(t, c.Now(), now, 0, "Redis TIME = %v, clock = %v: Attach must make them agree", now, c.Now())
	require.NoError(t, client.Set(ctx, "k", "v", 1500*time.Millisecond).Err())
	c.Advance(1499 * time.Millisecond)
	require.Equal(t, int64(1), client.Exists(ctx, "k").Val(), "key expired 1ms before its TTL")
	assert.Equal(t, time.Millisecond, client.PTTL(ctx, "k").Val(), "PTTL 1ms before expiry")
	c.Advance(time.Millisecond)
	assert.Equal(t, int64(0), client.Exists(ctx, "k").Val(), "key still there at its TTL")
	now = client.Time(ctx).Val()
	assert.WithinDuration(t, c.Now(), now, 0, "after Advance, Redis TIME = %v, clock = %v", now, c.Now())
}

func TestRepo_DefaultAnswerAndVersions(t *testing.T) {
	repo := NewRepo()
	c := NewClock(time.Time{})
	repo.SetNow(c.Now)
	ctx := t.Context()
	for want := int64(1); want <= 3; want++ {
		d, err := repo.Load(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, d, "load %d", want)
		assert.Equal(t, "k", d.Key, "load %d = %+v: key", want, d)
		assert.Equal(t, "value:k", d.Value, "load %d = %+v: value", want, d)
		assert.Equal(t, want, d.Version, "load %d = %+v: version", want, d)
		assert.WithinDuration(t, c.Now(), d.UpdatedAt, 0, "load %d = %+v: updated at", want, d)
		c.Advance(time.Second)
	}
	repo.Put("k", "new")
	d, err := repo.Load(ctx, "k")
	require.NoError(t, err, "load after Put")
	assert.Equal(t, "new", d.Value, "after Put, load = %+v", d)
	assert.Equal(t, int64(4), d.Version, "after Put, load = %+v", d)
	d, err = repo.Load(ctx, "other")
	require.NoError(t, err, "load of other")
	assert.Equal(t, "value:other", d.Value, "other key = %+v", d)
	assert.Equal(t, int64(1), d.Version, "other key = %+v, want its own version count", d)
	assert.Equal(t, int64(4), repo.LoadsOf("k"), "LoadsOf(k)")
	assert.Equal(t, int64(1), repo.LoadsOf("other"), "LoadsOf(other)")
	assert.Equal(t, int64(0), repo.LoadsOf("never"), "LoadsOf(never)")
	assert.Equal(t, int64(5), repo.Loads(), "Loads")
	assert.Equal(t, int64(5), repo.Completed(), "Completed")
	assert.Equal(t, int64(0), repo.InFlight(), "InFlight")
	assert.Equal(t, int64(1), repo.MaxInFlight(), "MaxInFlight")

	d, err = NewRepo().Load(ctx, "k")
	require.NoError(t, err, "load without SetNow")
	assert.WithinDuration(t, time.Now(), d.UpdatedAt, time.Minute, "without SetNow, UpdatedAt = %v, want the real time", d.UpdatedAt)
}

func TestRepo_Missing(t *testing.T) {
	repo := NewRepo()
	repo.Missing("a", "b")
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		d, err := repo.Load(ctx, k)
		require.ErrorIs(t, err, ErrNotFound, "Load(%q) = %v, %v; want nil, ErrNotFound", k, d, err)
		require.Nil(t, d, "Load(%q) = %v, %v; want nil, ErrNotFound", k, d, err)
		assert.ErrorContains(t, err, `"`+k+`"`, "error does not name the key")
	}
	_, err := repo.Load(ctx, "c")
	require.NoError(t, err, "Load of a present key")
	repo.Put("a", "here")
	d, err := repo.Load(ctx, "a")
	require.NoError(t, err, "after Put, Load(a)")
	assert.Equal(t, "here", d.Value, "after Put, Load(a) = %+v", d)
	assert.Equal(t, int64(1), d.Version, "after Put, Load(a) = %+v: not-found answers are no versions", d)
	assert.Equal(t, int64(4), repo.Completed(), "Completed: not-found loads complete too")
}

func TestRepo_Fail(t *testing.T) {
	repo := NewRepo()
	down := errors.New("db down")
	repo.Fail(down)
	repo.Missing("k") // a database that is down cannot say what is missing
	_, err := repo.Load(t.Context(), "k")
	require.ErrorIs(t, err, down, "Load while failing")
	repo.Fail(nil)
	_, err = repo.Load(t.Context(), "x")
	require.NoError(t, err, "Load after Fail(nil)")
	d, err := repo.Load(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, int64(2), d.Version, "version")
}

func TestRepo_Panic(t *testing.T) {
	repo := NewRepo()
	repo.Panic("boom")
	repo.Fail(errors.New("also failing"))
	for range 2 {
		require.PanicsWithValue(t, "boom", func() { _, _ = repo.Load(t.Context(), "k") },
			"want a panic with boom on every load")
	}
	assert.Equal(t, int64(0), repo.InFlight(), "after 2 panics: InFlight")
	assert.Equal(t, int64(2), repo.Completed(), "after 2 panics: Completed")
	assert.Equal(t, int64(2), repo.Loads(), "after 2 panics: Loads")
	repo.Panic(nil)
	repo.Fail(nil)
	d, err := repo.Load(t.Context(), "k")
	require.NoError(t, err, "Load after Panic(nil)")
	assert.Equal(t, int64(1), d.Version, "Load after Panic(nil) = %+v", d)
}

func TestRepo_GateHoldsAndReleases(t *testing.T) {
	repo := NewRepo()
	repo.Hold()
	repo.Hold() // holding a held gate does nothing

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	d, err := repo.Load(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "held Load with a 20ms deadline = %v, %v", d, err)

	const n = 5
	results := make(chan error, n)
	for range n {
		go func() {
			_, err := repo.Load(context.Background(), "k")
			results <- err
		}()
	}
	repo.WaitInFlight(t, n, "held loads")
	assert.Equal(t, int64(1), repo.Completed(), "Completed while held, want 1 (the timed-out load)")
	repo.Release()
	repo.Release() // idempotent
	for range n {
		require.NoError(t, <-results)
	}

	repo.Hold() // holds again after a Release
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = repo.Load(ctx, "k")
	require.ErrorIs(t, err, context.Canceled, "Load held again with a cancelled ctx")
	repo.Release()
	d, err = repo.Load(t.Context(), "k")
	require.NoError(t, err, "Load after Release")
	assert.Equal(t, int64(n+1), d.Version, "Load after Release = %+v", d)
}

// TestRepo_HoldAfterRead: a load held after reading answers the row as it was when it started, whatever changed
// meanwhile; after Release, loads read at the end again.
func TestRepo_HoldAfterRead(t *testing.T) {
	repo := NewRepo()
	repo.SetVersion("k", 9)
	repo.Missing("gone")
	repo.HoldAfterRead()
	type answer struct {
		d   *Data
		err error
	}
	got := make(chan answer, 2)
	for _, key := range []string{"k", "gone"} {
		go func() {
			d, err := repo.Load(context.Background(), key)
			got <- answer{d, err}
		}()
	}
	repo.WaitInFlight(t, 2, "loads held after reading")
	repo.Put("k", "updated")
	repo.Put("gone", "created")
	repo.Release()
	for range 2 {
		a := <-got
		if a.err != nil {
			assert.ErrorIs(t, a.err, ErrNotFound, "the held load of a missing key")
			continue
		}
		assert.Equal(t, "value:k", a.d.Value, "the held load answers the row it read: %+v", a.d)
		assert.Equal(t, int64(9), a.d.Version, "SetVersion(k, 9): the next load's version: %+v", a.d)
	}
	d, err := repo.Load(t.Context(), "k")
	require.NoError(t, err, "load after Release")
	assert.Equal(t, "updated", d.Value, "after Release a load reads the row at its end: %+v", d)
	assert.Equal(t, int64(10), d.Version, "the load after: %+v", d)
	d, err = repo.Load(t.Context(), "gone")
	require.NoError(t, err, "load of the created row")
	assert.Equal(t, "created", d.Value, "the created row: %+v", d)
}

func TestRepo_Latency(t *testing.T) {
	repo := NewRepo()
	repo.SetLatency(20 * time.Millisecond)
	start := time.Now()
	_, err := repo.Load(t.Context(), "k")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "Load took less than the 20ms latency")

	repo.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = repo.Load(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "Load with 1h latency and a 10ms deadline")
	assert.LessOrEqual(t, time.Since(start), within, "Load ignored its deadline")
	repo.SetLatency(0)
	_, err = repo.Load(t.Context(), "k")
	require.NoError(t, err)
}

func TestRepo_CountersAndMaxInFlight(t *testing.T) {
	repo := NewRepo()
	repo.Hold()
	const n = 8
	done := make(chan HerdResult, 1)
	go func() {
		done <- Herd(n, func(i int) error {
			_, err := repo.Load(context.Background(), fmt.Sprint("k", i%2))
			return err
		})
	}()
	repo.WaitLoads(t, n, "loads never started")
	repo.WaitInFlight(t, n, "loads never all in flight")
	assert.Equal(t, int64(n), repo.MaxInFlight(), "held: MaxInFlight")
	assert.Equal(t, int64(0), repo.Completed(), "held: Completed")
	repo.Release()
	r := <-done
	require.NoError(t, r.FirstErr(), "%d loads failed", r.Failed())
	assert.Equal(t, int64(n), repo.Loads(), "Loads")
	assert.Equal(t, int64(0), repo.InFlight(), "InFlight")
	assert.Equal(t, int64(n), repo.MaxInFlight(), "MaxInFlight")
	assert.Equal(t, int64(n), repo.Completed(), "Completed")
	assert.Equal(t, int64(n/2), repo.LoadsOf("k0"), "LoadsOf(k0)")
	assert.Equal(t, int64(n/2), repo.LoadsOf("k1"), "LoadsOf(k1)")
	// Sequential loads after the herd do not raise the high-water mark.
	_, err := repo.Load(t.Context(), "k0")
	require.NoError(t, err)
	assert.Equal(t, int64(n), repo.MaxInFlight(), "MaxInFlight after one more load")
}

func TestHerd_AllInsideAtOnce(t *testing.T) {
	const n = 200
	var inside, finished atomic.Int64
	all := make(chan struct{})
	var fewest atomic.Int64 // fewest goroutines alive at any fn's entry
	fewest.Store(1 << 62)
	r := Herd(n, func(i int) error {
		defer finished.Add(1)
		for g := int64(runtime.NumGoroutine()); ; {
			if m := fewest.Load(); g >= m || fewest.CompareAndSwap(m, g) {
				break
			}
		}
		if inside.Add(1) == n {
			close(all)
		}
		// Each goroutine waits for all n to be inside fn together: a herd that ran them one by one would time out.
		select {
		case <-all:
			return nil
		case <-time.After(within):
			return fmt.Errorf("goroutine %d: only %d of %d inside fn together", i, inside.Load(), n)
		}
	})
	require.NoError(t, r.FirstErr(), "%d calls failed", r.Failed())
	assert.Equal(t, int64(n), finished.Load(), "calls finished when Herd returned")
	// Released by one signal: no call starts before every goroutine of the herd exists (n, plus this test's own).
	assert.GreaterOrEqual(t, fewest.Load(), int64(n+1),
		"fewest goroutines alive when a call started: the herd was not held at the start")
}

func TestHerd_Result(t *testing.T) {
	errA := errors.New("a")
	errB := errors.New("b")
	r := Herd(10, func(i int) error {
		switch {
		case i == 3 || i == 7:
			return fmt.Errorf("call %d: %w", i, errA)
		case i == 5:
			return errB
		}
		return nil
	})
	require.Len(t, r.Errs, 10)
	assert.Equal(t, 7, r.OK(), "OK")
	assert.Equal(t, 3, r.Failed(), "Failed")
	assert.EqualError(t, r.FirstErr(), "call 3: a", "FirstErr, want the error of call 3")
	assert.Equal(t, 2, r.Count(errA), "Count(errA)")
	assert.Equal(t, 1, r.Count(errB), "Count(errB)")
	assert.Equal(t, 0, r.Count(ErrNotFound), "Count(ErrNotFound)")
	empty := Herd(0, func(int) error { return errA })
	assert.Equal(t, 0, empty.Failed(), "Herd(0) = %+v", empty)
	assert.NoError(t, empty.FirstErr(), "Herd(0) = %+v", empty)
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runRecorded runs fn on a goroutine of its own with a fatalRecorder that passes everything but Fatalf on to tb, and
// returns the Fatalf message, if any.
func runRecorded(tb testing.TB, fn func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: tb}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	return rec.msg
}

func TestEventually(t *testing.T) {
	var n atomic.Int64
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	Eventually(t, func() bool { return n.Load() == 3 }, within, "counter never reached 3")

	start := time.Now()
	msg := runRecorded(t, func(tb testing.TB) {
		Eventually(tb, func() bool { return false }, 30*time.Millisecond, "never %s", "true")
	})
	took := time.Since(start)
	assert.Contains(t, msg, "never true", "Eventually failed without the message")
	assert.Contains(t, msg, "30ms", "Eventually failed without the bound")
	assert.GreaterOrEqual(t, took, 30*time.Millisecond, "Eventually gave up before its 30ms")
	assert.LessOrEqual(t, took, within, "Eventually gave up long after its 30ms")
}

func TestRepo_WaitReportsTheNumbersOfTheMoment(t *testing.T) {
	repo := NewRepo()
	msg := runRecorded(t, func(tb testing.TB) {
		poll(tb, func() bool { return repo.Loads() >= 2 }, 10*time.Millisecond, func() string {
			return fmt.Sprintf("loads %d", repo.Loads())
		})
	})
	assert.Equal(t, "loads 0 (still false after 10ms)", msg, "poll failed with the wrong message")
}

func TestDeadClient_ErrorsFast(t *testing.T) {
	c := DeadClient(t)
	start := time.Now()
	// Past PoolSize failed dials (10 per CPU), go-redis fails fast on its last dial error and probes the server on a
	// background goroutine, which must end once the client is closed (see VerifyNone).
	for range 200 {
		require.Error(t, c.Ping(t.Context()).Err(), "Ping on a dead client succeeded")
	}
	assert.LessOrEqual(t, time.Since(start), within, "200 Pings on a dead client, want them to fail fast")
	var opErr interface{ Timeout() bool }
	err := c.Set(t.Context(), "k", "v", 0).Err()
	assert.False(t, errors.As(err, &opErr) && opErr.Timeout(), "dead client timed out (%v); want connection refused", err)
}

func TestStartRedis_Miniredis(t *testing.T) {
	t.Setenv("REDIS_ADDR", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	r := StartRedis(t)
	require.False(t, r.Real(), "without REDIS_ADDR: want miniredis")
	require.NotNil(t, r.Mini, "without REDIS_ADDR: want miniredis")
	require.Zero(t, r.DB, "without REDIS_ADDR: DB")
	a, b := r.Client(t), r.Client(t)
	require.NotSame(t, a, b, "Client returned the same client twice; each must stand for its own process")
	ctx := t.Context()
	require.NoError(t, a.Set(ctx, "k", "v", 0).Err())
	assert.Equal(t, "v", b.Get(ctx, "k").Val(), "second client read")
	require.IsType(t, &redis.Client{}, a)
	opts := a.(*redis.Client).Options()
	assert.True(t, opts.ContextTimeoutEnabled, "client options: ContextTimeoutEnabled")
	assert.Equal(t, 2*time.Second, opts.ReadTimeout, "client options: ReadTimeout")

	addr := r.Addr
	r.Stop()
	// The deadline only saves time: with default retries a client takes ~1.7s to give up on a refusing server.
	down, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	require.Error(t, a.Ping(down).Err(), "Ping succeeded with miniredis stopped")
	r.Restart(t)
	require.Equal(t, addr, r.Addr, "restarted on another address")
	require.Equal(t, addr, r.Mini.Addr(), "restarted on another address")
	Eventually(t, func() bool { return a.Get(ctx, "k").Val() == "v" }, within, "data lost or client not reconnected")
}

func TestStartMiniredis_IgnoresRedisAddr(t *testing.T) {
	t.Setenv("REDIS_ADDR", "127.0.0.1:1")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	r := StartMiniredis(t)
	assert.False(t, r.Real(), "StartMiniredis used REDIS_ADDR")
	assert.NotNil(t, r.Mini, "StartMiniredis used REDIS_ADDR")
}

// TestStartRedis_ReservesADatabase runs the real-server path against a standalone miniredis posing as the server.
func TestStartRedis_ReservesADatabase(t *testing.T) {
	server := StartMiniredis(t)
	t.Setenv("REDIS_ADDR", server.Addr)
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	admin := server.Client(t)
	ctx := t.Context()

	var dbs []int
	var tokens []string
	t.Run("reserve", func(t *testing.T) {
		for range 2 {
			r := StartRedis(t)
			require.True(t, r.Real(), "StartRedis = %+v, want a reserved logical database of %s", r, server.Addr)
			require.GreaterOrEqual(t, r.DB, 1, "StartRedis = %+v, want a reserved logical database of %s", r, server.Addr)
			require.LessOrEqual(t, r.DB, 15, "StartRedis = %+v, want a reserved logical database of %s", r, server.Addr)
			require.Equal(t, server.Addr, r.Addr, "StartRedis = %+v, want a reserved logical database of %s", r, server.Addr)
			token := admin.Get(ctx, fmt.Sprint("testutil:db:", r.DB)).Val()
			require.NotEmpty(t, token, "db %d not reserved in db 0", r.DB)
			ttl := admin.PTTL(ctx, fmt.Sprint("testutil:db:", r.DB)).Val()
			require.Positive(t, ttl, "reservation TTL, want it to expire within 10 minutes")
			require.LessOrEqual(t, ttl, 10*time.Minute, "reservation TTL, want it to expire within 10 minutes")
			require.NoError(t, r.Client(t).Set(ctx, "k", fmt.Sprint(r.DB), 0).Err())
			dbs, tokens = append(dbs, r.DB), append(tokens, token)
		}
		require.NotEqual(t, dbs[0], dbs[1], "two StartRedis in one test share a db")
		for _, db := range dbs {
			got, _ := server.Mini.DB(db).Get("k")
			assert.Equal(t, fmt.Sprint(db), got, "db %d does not hold its own value", db)
		}
	})
	for i, db := range dbs {
		assert.NotEqual(t, tokens[i], admin.Get(ctx, fmt.Sprint("testutil:db:", db)).Val(),
			"db %d still reserved after the test ended", db)
		assert.Empty(t, server.Mini.DB(db).Keys(), "db %d not flushed at cleanup", db)
	}

	// Someone else's reservation survives our release, and a dirty database is flushed before use.
	require.NoError(t, server.Mini.DB(1).Set("left", "over"))
	for db := 2; db <= 15; db++ {
		require.NoError(t, server.Mini.Set(fmt.Sprint("testutil:db:", db), "other"))
	}
	t.Run("flushes", func(t *testing.T) {
		r := StartRedis(t)
		require.Equal(t, 1, r.DB, "want the only free db, 1")
		assert.Empty(t, server.Mini.DB(1).Keys(), "db 1 not flushed before use")
		// our reservation expired and was taken
		require.NoError(t, server.Mini.Set("testutil:db:1", "stolen"))
	})
	held, _ := server.Mini.Get("testutil:db:1")
	require.Equal(t, "stolen", held, "cleanup released a reservation it no longer held")

	// With every database taken, StartRedis polls until one is released.
	before := server.Mini.CommandCount()
	got := make(chan int, 1)
	go func() {
		// A goroutine other than the test's may not call t.Fatal (nor require): the recorder ends only this one.
		msg := runRecorded(t, func(tb testing.TB) { got <- StartRedis(tb).DB })
		if !assert.Empty(t, msg, "waiting StartRedis failed") {
			got <- -1
		}
	}()
	Eventually(t, func() bool { return server.Mini.CommandCount() >= before+3*15 }, within,
		"StartRedis is not polling for a free database")
	server.Mini.Del("testutil:db:7")
	select {
	case db := <-got:
		assert.Equal(t, 7, db, "waiting StartRedis got the wrong db, want 7, the one released")
	case <-time.After(within):
		require.Fail(t, "StartRedis did not take the released database")
	}
}

func TestStartRedis_RealServer(t *testing.T) {
	if os.Getenv("REDIS_ADDR") == "" {
		t.Skip("REDIS_ADDR not set")
	}
	r := StartRedis(t)
	require.True(t, r.Real(), "StartRedis = %+v, want a reserved logical database of REDIS_ADDR", r)
	require.GreaterOrEqual(t, r.DB, 1, "StartRedis = %+v, want a reserved logical database of REDIS_ADDR", r)
	require.LessOrEqual(t, r.DB, 15, "StartRedis = %+v, want a reserved logical database of REDIS_ADDR", r)
	c := r.Client(t)
	ctx := t.Context()
	require.Zero(t, c.DBSize(ctx).Val(), "reserved db %d holds keys, want a flushed one", r.DB)
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	assert.Equal(t, "v", r.Client(t).Get(ctx, "k").Val(), "second client read")
}

func TestEnv(t *testing.T) {
	env := NewEnv(t)
	require.NotNil(t, env.Redis, "NewEnv = %+v", env)
	require.NotNil(t, env.Redis.Mini, "NewEnv = %+v", env)
	require.NotNil(t, env.Clock, "NewEnv = %+v", env)
	require.NotNil(t, env.Repo, "NewEnv = %+v", env)
	cfg := env.Config()
	require.NotNil(t, cfg.Now, "Env.Config does not use the Env's clock")
	assert.WithinDuration(t, env.Clock.Now(), cfg.Now(), 0, "Env.Config does not use the Env's clock")
	env.Clock.Advance(time.Minute)
	d, err := env.Repo.Load(t.Context(), "k")
	require.NoError(t, err)
	assert.WithinDuration(t, env.Clock.Now(), d.UpdatedAt, 0, "repo stamped %v, want the Env's clock %v", d.UpdatedAt, env.Clock.Now())
	require.NoError(t, env.Redis.Client(t).Set(t.Context(), "k", "v", time.Second).Err())
	env.Clock.Advance(time.Second)
	assert.False(t, env.Redis.Mini.Exists("k"), "NewEnv's clock is not attached to its miniredis")

	t.Setenv("REDIS_ADDR", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	assert.NotNil(t, NewRealEnv(t).Redis.Mini, "NewRealEnv without REDIS_ADDR must use miniredis")
}

func TestStartRedis_Cluster(t *testing.T) {
	if os.Getenv("REDIS_CLUSTER_ADDRS") == "" {
		t.Skip("REDIS_CLUSTER_ADDRS not set")
	}
	r := StartRedis(t)
	require.NotEmpty(t, r.Cluster, "StartRedis with REDIS_CLUSTER_ADDRS = %+v, want the cluster", r)
	c := r.Client(t)
	_, isCluster := c.(*redis.ClusterClient)
	require.True(t, isCluster, "Client of a cluster is %T, want *redis.ClusterClient", c)
	ctx := t.Context()
	for i := range 50 { // keys spread over every master
		require.NoError(t, c.Set(ctx, fmt.Sprint("k", i), "v", 0).Err())
	}
	var n atomic.Int64 // ForEachMaster calls fn on every master at once
	require.NoError(t, c.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		if size > 0 {
			n.Add(1)
		}
		return err
	}))
	assert.Greater(t, n.Load(), int64(1), "50 keys landed on %d master(s): want them spread over the cluster", n.Load())
}
