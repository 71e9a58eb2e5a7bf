package testutil

// Tests of the helpers themselves. They use only the Data and ErrNotFound aliases of the implementation under test,
// never its behaviour, so they pass in learner and solution mode alike.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { VerifyNone(m) }

// within bounds the real-time waits of these tests.
const within = 5 * time.Second

func TestClock_StartsAt2026AndAdvances(t *testing.T) {
	c := NewClock(time.Time{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("NewClock(zero).Now() = %v, want %v", got, start)
	}
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("after Advance(90s) Now() = %v", got)
	}
	other := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	if got := NewClock(other).Now(); !got.Equal(other) {
		t.Fatalf("NewClock(%v).Now() = %v", other, got)
	}
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
	if got := c.Now().Sub(start); got != 50*time.Second {
		t.Fatalf("50 concurrent Advance(1s) moved the clock by %v", got)
	}
}

func TestClock_CannotGoBack(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Advance(-1s) did not panic")
		}
	}()
	NewClock(time.Time{}).Advance(-time.Second)
}

func TestClock_AdvanceExpiresMiniredisKeysExactlyAtTheTTL(t *testing.T) {
	r := StartMiniredis(t)
	c := NewClock(time.Time{})
	c.Attach(r.Mini)
	client := r.Client(t)
	ctx := t.Context()

	now, err := client.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !now.Equal(c.Now()) {
		t.Fatalf("Redis TIME = %v, clock = %v: Attach must make them agree", now, c.Now())
	}
	if err := client.Set(ctx, "k", "v", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	c.Advance(1499 * time.Millisecond)
	if n := client.Exists(ctx, "k").Val(); n != 1 {
		t.Fatal("key expired 1ms before its TTL")
	}
	if ttl := client.PTTL(ctx, "k").Val(); ttl != time.Millisecond {
		t.Fatalf("PTTL 1ms before expiry = %v", ttl)
	}
	c.Advance(time.Millisecond)
	if n := client.Exists(ctx, "k").Val(); n != 0 {
		t.Fatal("key still there at its TTL")
	}
	if now := client.Time(ctx).Val(); !now.Equal(c.Now()) {
		t.Fatalf("after Advance, Redis TIME = %v, clock = %v", now, c.Now())
	}
}

func TestRepo_DefaultAnswerAndVersions(t *testing.T) {
	repo := NewRepo()
	c := NewClock(time.Time{})
	repo.SetNow(c.Now)
	ctx := t.Context()
	for want := int64(1); want <= 3; want++ {
		d, err := repo.Load(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if d.Key != "k" || d.Value != "value:k" || d.Version != want || !d.UpdatedAt.Equal(c.Now()) {
			t.Fatalf("load %d = %+v, want key k, value value:k, version %d, updated at %v", want, d, want, c.Now())
		}
		c.Advance(time.Second)
	}
	repo.Put("k", "new")
	if d, _ := repo.Load(ctx, "k"); d.Value != "new" || d.Version != 4 {
		t.Fatalf("after Put, load = %+v, want value new, version 4", d)
	}
	if d, _ := repo.Load(ctx, "other"); d.Value != "value:other" || d.Version != 1 {
		t.Fatalf("other key = %+v, want its own version count", d)
	}
	if repo.LoadsOf("k") != 4 || repo.LoadsOf("other") != 1 || repo.LoadsOf("never") != 0 {
		t.Fatalf("LoadsOf = %d, %d, %d; want 4, 1, 0", repo.LoadsOf("k"), repo.LoadsOf("other"), repo.LoadsOf("never"))
	}
	if repo.Loads() != 5 || repo.Completed() != 5 || repo.InFlight() != 0 || repo.MaxInFlight() != 1 {
		t.Fatalf("Loads %d, Completed %d, InFlight %d, MaxInFlight %d; want 5, 5, 0, 1",
			repo.Loads(), repo.Completed(), repo.InFlight(), repo.MaxInFlight())
	}

	d, err := NewRepo().Load(ctx, "k")
	if err != nil || time.Since(d.UpdatedAt) > time.Minute {
		t.Fatalf("without SetNow, UpdatedAt = %v (err %v), want the real time", d.UpdatedAt, err)
	}
}

func TestRepo_Missing(t *testing.T) {
	repo := NewRepo()
	repo.Missing("a", "b")
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		d, err := repo.Load(ctx, k)
		if !errors.Is(err, ErrNotFound) || d != nil {
			t.Fatalf("Load(%q) = %v, %v; want nil, ErrNotFound", k, d, err)
		}
		if !strings.Contains(err.Error(), `"`+k+`"`) {
			t.Errorf("error %q does not name the key", err)
		}
	}
	if _, err := repo.Load(ctx, "c"); err != nil {
		t.Fatalf("Load of a present key: %v", err)
	}
	repo.Put("a", "here")
	if d, err := repo.Load(ctx, "a"); err != nil || d.Value != "here" || d.Version != 1 {
		t.Fatalf("after Put, Load(a) = %+v, %v; want value here, version 1 (not-found answers are no versions)", d, err)
	}
	if repo.Completed() != 4 {
		t.Fatalf("Completed = %d, want 4: not-found loads complete too", repo.Completed())
	}
}

func TestRepo_Fail(t *testing.T) {
	repo := NewRepo()
	down := errors.New("db down")
	repo.Fail(down)
	repo.Missing("k") // a database that is down cannot say what is missing
	if _, err := repo.Load(t.Context(), "k"); !errors.Is(err, down) {
		t.Fatalf("Load while failing = %v, want %v", err, down)
	}
	repo.Fail(nil)
	if _, err := repo.Load(t.Context(), "x"); err != nil {
		t.Fatalf("Load after Fail(nil): %v", err)
	}
	if d, _ := repo.Load(t.Context(), "x"); d.Version != 2 {
		t.Fatalf("version %d, want 2", d.Version)
	}
}

func TestRepo_Panic(t *testing.T) {
	repo := NewRepo()
	repo.Panic("boom")
	repo.Fail(errors.New("also failing"))
	load := func() (v any) {
		defer func() { v = recover() }()
		_, _ = repo.Load(t.Context(), "k")
		return nil
	}
	for range 2 {
		if v := load(); v != "boom" {
			t.Fatalf("Load recovered %v, want a panic with boom on every load", v)
		}
	}
	if repo.InFlight() != 0 || repo.Completed() != 2 || repo.Loads() != 2 {
		t.Fatalf("after 2 panics: InFlight %d, Completed %d, Loads %d; want 0, 2, 2",
			repo.InFlight(), repo.Completed(), repo.Loads())
	}
	repo.Panic(nil)
	repo.Fail(nil)
	if d, err := repo.Load(t.Context(), "k"); err != nil || d.Version != 1 {
		t.Fatalf("Load after Panic(nil) = %+v, %v; want version 1", d, err)
	}
}

func TestRepo_GateHoldsAndReleases(t *testing.T) {
	repo := NewRepo()
	repo.Hold()
	repo.Hold() // holding a held gate does nothing

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if d, err := repo.Load(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("held Load with a 20ms deadline = %v, %v; want context.DeadlineExceeded", d, err)
	}

	const n = 5
	results := make(chan error, n)
	for range n {
		go func() {
			_, err := repo.Load(context.Background(), "k")
			results <- err
		}()
	}
	repo.WaitInFlight(t, n, "held loads")
	if repo.Completed() != 1 {
		t.Fatalf("Completed = %d while held, want 1 (the timed-out load)", repo.Completed())
	}
	repo.Release()
	repo.Release() // idempotent
	for range n {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}

	repo.Hold() // holds again after a Release
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := repo.Load(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load held again with a cancelled ctx = %v, want context.Canceled", err)
	}
	repo.Release()
	if d, err := repo.Load(t.Context(), "k"); err != nil || d.Version != n+1 {
		t.Fatalf("Load after Release = %+v, %v; want version %d", d, err, n+1)
	}
}

func TestRepo_Latency(t *testing.T) {
	repo := NewRepo()
	repo.SetLatency(20 * time.Millisecond)
	start := time.Now()
	if _, err := repo.Load(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("Load took %v, want at least the 20ms latency", took)
	}

	repo.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := repo.Load(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load with 1h latency and a 10ms deadline = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > within {
		t.Fatalf("Load ignored its deadline: took %v", took)
	}
	repo.SetLatency(0)
	if _, err := repo.Load(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
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
	if repo.MaxInFlight() != n || repo.Completed() != 0 {
		t.Fatalf("held: MaxInFlight %d, Completed %d; want %d, 0", repo.MaxInFlight(), repo.Completed(), n)
	}
	repo.Release()
	if r := <-done; r.Failed() != 0 {
		t.Fatal(r.FirstErr())
	}
	if repo.Loads() != n || repo.InFlight() != 0 || repo.MaxInFlight() != n || repo.Completed() != n {
		t.Fatalf("Loads %d, InFlight %d, MaxInFlight %d, Completed %d; want %d, 0, %d, %d",
			repo.Loads(), repo.InFlight(), repo.MaxInFlight(), repo.Completed(), n, n, n)
	}
	if repo.LoadsOf("k0") != n/2 || repo.LoadsOf("k1") != n/2 {
		t.Fatalf("LoadsOf = %d, %d; want %d each", repo.LoadsOf("k0"), repo.LoadsOf("k1"), n/2)
	}
	// Sequential loads after the herd do not raise the high-water mark.
	if _, err := repo.Load(t.Context(), "k0"); err != nil || repo.MaxInFlight() != n {
		t.Fatalf("MaxInFlight %d after one more load (err %v), want %d", repo.MaxInFlight(), err, n)
	}
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
	if r.Failed() != 0 {
		t.Fatal(r.FirstErr())
	}
	if got := finished.Load(); got != n {
		t.Fatalf("Herd returned with %d of %d calls finished", got, n)
	}
	// Released by one signal: no call starts before every goroutine of the herd exists (n, plus this test's own).
	if got := fewest.Load(); got < n+1 {
		t.Fatalf("a call started with %d goroutines alive, want at least %d: the herd was not held at the start", got, n+1)
	}
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
	if len(r.Errs) != 10 || r.OK() != 7 || r.Failed() != 3 {
		t.Fatalf("len %d, OK %d, Failed %d; want 10, 7, 3", len(r.Errs), r.OK(), r.Failed())
	}
	if err := r.FirstErr(); err == nil || err.Error() != "call 3: a" {
		t.Fatalf("FirstErr = %v, want the error of call 3", err)
	}
	if r.Count(errA) != 2 || r.Count(errB) != 1 || r.Count(ErrNotFound) != 0 {
		t.Fatalf("Count = %d, %d, %d; want 2, 1, 0", r.Count(errA), r.Count(errB), r.Count(ErrNotFound))
	}
	if empty := Herd(0, func(int) error { return errA }); empty.Failed() != 0 || empty.FirstErr() != nil {
		t.Fatalf("Herd(0) = %+v", empty)
	}
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
	if !strings.Contains(msg, "never true") || !strings.Contains(msg, "30ms") {
		t.Fatalf("Eventually failed with %q, want the message and the bound", msg)
	}
	if took := time.Since(start); took < 30*time.Millisecond || took > within {
		t.Fatalf("Eventually gave up after %v, want about 30ms", took)
	}
}

func TestRepo_WaitReportsTheNumbersOfTheMoment(t *testing.T) {
	repo := NewRepo()
	msg := runRecorded(t, func(tb testing.TB) {
		poll(tb, func() bool { return repo.Loads() >= 2 }, 10*time.Millisecond, func() string {
			return fmt.Sprintf("loads %d", repo.Loads())
		})
	})
	if msg != "loads 0 (still false after 10ms)" {
		t.Fatalf("poll failed with %q", msg)
	}
}

func TestDeadClient_ErrorsFast(t *testing.T) {
	c := DeadClient(t)
	start := time.Now()
	// Past PoolSize failed dials (10 per CPU), go-redis fails fast on its last dial error and probes the server on a
	// background goroutine, which must end once the client is closed (see VerifyNone).
	for range 200 {
		if err := c.Ping(t.Context()).Err(); err == nil {
			t.Fatal("Ping on a dead client succeeded")
		}
	}
	if took := time.Since(start); took > within {
		t.Fatalf("200 Pings on a dead client took %v, want them to fail fast", took)
	}
	var opErr interface{ Timeout() bool }
	if err := c.Set(t.Context(), "k", "v", 0).Err(); errors.As(err, &opErr) && opErr.Timeout() {
		t.Fatalf("dead client timed out (%v); want connection refused", err)
	}
}

func TestStartRedis_Miniredis(t *testing.T) {
	t.Setenv("REDIS_ADDR", "")
	r := StartRedis(t)
	if r.Real() || r.Mini == nil || r.DB != 0 {
		t.Fatalf("without REDIS_ADDR: Real %v, Mini %v, DB %d; want miniredis", r.Real(), r.Mini, r.DB)
	}
	a, b := r.Client(t), r.Client(t)
	if a == b {
		t.Fatal("Client returned the same client twice; each must stand for its own process")
	}
	ctx := t.Context()
	if err := a.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := b.Get(ctx, "k").Val(); got != "v" {
		t.Fatalf("second client read %q, want v", got)
	}
	if got := a.(*redis.Client).Options(); !got.ContextTimeoutEnabled || got.ReadTimeout != 2*time.Second {
		t.Fatalf("client options: ContextTimeoutEnabled %v, ReadTimeout %v", got.ContextTimeoutEnabled, got.ReadTimeout)
	}

	addr := r.Addr
	r.Stop()
	// The deadline only saves time: with default retries a client takes ~1.7s to give up on a refusing server.
	down, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := a.Ping(down).Err(); err == nil {
		t.Fatal("Ping succeeded with miniredis stopped")
	}
	r.Restart(t)
	if r.Addr != addr || r.Mini.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", r.Mini.Addr(), addr)
	}
	Eventually(t, func() bool { return a.Get(ctx, "k").Val() == "v" }, within, "data lost or client not reconnected")
}

func TestStartMiniredis_IgnoresRedisAddr(t *testing.T) {
	t.Setenv("REDIS_ADDR", "127.0.0.1:1")
	if r := StartMiniredis(t); r.Real() || r.Mini == nil {
		t.Fatal("StartMiniredis used REDIS_ADDR")
	}
}

// TestStartRedis_ReservesADatabase runs the real-server path against a standalone miniredis posing as the server.
func TestStartRedis_ReservesADatabase(t *testing.T) {
	server := StartMiniredis(t)
	t.Setenv("REDIS_ADDR", server.Addr)
	admin := server.Client(t)
	ctx := t.Context()

	var dbs []int
	var tokens []string
	t.Run("reserve", func(t *testing.T) {
		for range 2 {
			r := StartRedis(t)
			if !r.Real() || r.DB < 1 || r.DB > 15 || r.Addr != server.Addr {
				t.Fatalf("StartRedis = %+v, want a reserved logical database of %s", r, server.Addr)
			}
			token := admin.Get(ctx, fmt.Sprint("testutil:db:", r.DB)).Val()
			if token == "" {
				t.Fatalf("db %d not reserved in db 0", r.DB)
			}
			if ttl := admin.PTTL(ctx, fmt.Sprint("testutil:db:", r.DB)).Val(); ttl <= 0 || ttl > 10*time.Minute {
				t.Fatalf("reservation TTL %v, want it to expire within 10 minutes", ttl)
			}
			if err := r.Client(t).Set(ctx, "k", fmt.Sprint(r.DB), 0).Err(); err != nil {
				t.Fatal(err)
			}
			dbs, tokens = append(dbs, r.DB), append(tokens, token)
		}
		if dbs[0] == dbs[1] {
			t.Fatalf("two StartRedis in one test share db %d", dbs[0])
		}
		for _, db := range dbs {
			if got, _ := server.Mini.DB(db).Get("k"); got != fmt.Sprint(db) {
				t.Fatalf("db %d holds %q, want its own value", db, got)
			}
		}
	})
	for i, db := range dbs {
		if got := admin.Get(ctx, fmt.Sprint("testutil:db:", db)).Val(); got == tokens[i] {
			t.Errorf("db %d still reserved after the test ended", db)
		}
		if keys := server.Mini.DB(db).Keys(); len(keys) != 0 {
			t.Errorf("db %d not flushed at cleanup: %v", db, keys)
		}
	}

	// Someone else's reservation survives our release, and a dirty database is flushed before use.
	if err := server.Mini.DB(1).Set("left", "over"); err != nil {
		t.Fatal(err)
	}
	for db := 2; db <= 15; db++ {
		if err := server.Mini.Set(fmt.Sprint("testutil:db:", db), "other"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("flushes", func(t *testing.T) {
		r := StartRedis(t)
		if r.DB != 1 {
			t.Fatalf("got db %d, want the only free one, 1", r.DB)
		}
		if keys := server.Mini.DB(1).Keys(); len(keys) != 0 {
			t.Fatalf("db 1 not flushed before use: %v", keys)
		}
		if err := server.Mini.Set("testutil:db:1", "stolen"); err != nil { // our reservation expired and was taken
			t.Fatal(err)
		}
	})
	if got, _ := server.Mini.Get("testutil:db:1"); got != "stolen" {
		t.Fatalf("cleanup released a reservation it no longer held (now %q)", got)
	}

	// With every database taken, StartRedis polls until one is released.
	before := server.Mini.CommandCount()
	got := make(chan int, 1)
	go func() {
		// A goroutine other than the test's may not call t.Fatal: the recorder ends only this one.
		msg := runRecorded(t, func(tb testing.TB) { got <- StartRedis(tb).DB })
		if msg != "" {
			t.Error(msg)
			got <- -1
		}
	}()
	Eventually(t, func() bool { return server.Mini.CommandCount() >= before+3*15 }, within,
		"StartRedis is not polling for a free database")
	server.Mini.Del("testutil:db:7")
	select {
	case db := <-got:
		if db != 7 {
			t.Fatalf("waiting StartRedis got db %d, want 7, the one released", db)
		}
	case <-time.After(within):
		t.Fatal("StartRedis did not take the released database")
	}
}

func TestStartRedis_RealServer(t *testing.T) {
	if os.Getenv("REDIS_ADDR") == "" {
		t.Skip("REDIS_ADDR not set")
	}
	r := StartRedis(t)
	if !r.Real() || r.DB < 1 || r.DB > 15 {
		t.Fatalf("StartRedis = %+v, want a reserved logical database of REDIS_ADDR", r)
	}
	c := r.Client(t)
	ctx := t.Context()
	if n := c.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("reserved db %d holds %d keys, want a flushed one", r.DB, n)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := r.Client(t).Get(ctx, "k").Val(); got != "v" {
		t.Fatalf("second client read %q, want v", got)
	}
}

func TestEnv(t *testing.T) {
	env := NewEnv(t)
	if env.Redis.Mini == nil || env.Clock == nil || env.Repo == nil {
		t.Fatalf("NewEnv = %+v", env)
	}
	if cfg := env.Config(); cfg.Now == nil || !cfg.Now().Equal(env.Clock.Now()) {
		t.Fatal("Env.Config does not use the Env's clock")
	}
	env.Clock.Advance(time.Minute)
	if d, _ := env.Repo.Load(t.Context(), "k"); !d.UpdatedAt.Equal(env.Clock.Now()) {
		t.Fatalf("repo stamped %v, want the Env's clock %v", d.UpdatedAt, env.Clock.Now())
	}
	if err := env.Redis.Client(t).Set(t.Context(), "k", "v", time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Second)
	if env.Redis.Mini.Exists("k") {
		t.Fatal("NewEnv's clock is not attached to its miniredis")
	}

	t.Setenv("REDIS_ADDR", "")
	if real := NewRealEnv(t); real.Redis.Mini == nil {
		t.Fatal("NewRealEnv without REDIS_ADDR must use miniredis")
	}
}
