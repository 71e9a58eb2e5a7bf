package swr_test

// Step 05: stale-while-revalidate in day45/swr.go (see README.md beside this file).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/05-swr/README.md を参照"

// bound caps every wait in these tests: they fail with a message instead of hanging.
const bound = 2 * time.Second

// staleKey returns a protector whose key "product:1" holds "old", fresh for 1m and now 61s old: stale, but still in
// Redis for another 59s (StaleTTL 1m).
func staleKey(t *testing.T) (*testutil.Env, *testutil.Protector) {
	t.Helper()
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.TTL, cfg.StaleTTL, cfg.JitterPercent = time.Minute, time.Minute, 0
	cfg.LockPollInterval = time.Millisecond
	p := env.Protector(t, cfg)
	require.NoError(t, p.Set(t.Context(), "product:1", &testutil.Data{Key: "product:1", Value: "old"}, time.Minute), "Set")
	env.Clock.Advance(61 * time.Second)
	return env, p
}

type answer struct {
	value string
	err   error
}

// readOne is one caller of readAll.
func readOne(ctx context.Context, p *testutil.Protector, out chan<- answer) {
	d, err := p.GetStaleWhileRevalidate(ctx, "product:1")
	if err != nil {
		out <- answer{err: err}
		return
	}
	out <- answer{value: d.Value}
}

// reads is what readAll saw.
type reads struct {
	answered int            // callers that answered within bound
	inDB     int            // callers that had not, waiting for the held database
	values   map[string]int // answers by value
	errs     []error
}

// why explains the callers that did not answer, for a failure message.
func (r reads) why() string {
	if r.inDB == 0 {
		return ""
	}
	return fmt.Sprintf("（戻らなかった %d 本は、呼び出し元のゴルーチンの中で DB の読み込みを待っていました）", r.inDB)
}

// readAll runs n concurrent GetStaleWhileRevalidate calls on ctx and reports how many answered within bound, and
// with what. It stops early once every caller that has not answered waits inside the held database: none of them
// can answer before the test releases it.
func readAll(ctx context.Context, p *testutil.Protector, n int) reads {
	out := make(chan answer, n)
	for range n {
		go readOne(ctx, p, out)
	}
	r := reads{values: map[string]int{}}
	deadline := time.After(bound)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.answered < n {
		select {
		case a := <-out:
			r.answered++
			if a.err != nil {
				r.errs = append(r.errs, a.err)
			} else {
				r.values[a.value]++
			}
		case <-tick.C:
			if r.inDB = testutil.WaitsForTheDB("swr_test.readOne("); r.answered+r.inDB == n {
				return r
			}
		case <-deadline:
			return r
		}
	}
	r.inDB = 0
	return r
}

func TestSWR_StaleAnswersDoNotWaitForTheDB(t *testing.T) {
	env, p := staleKey(t)
	env.Repo.Hold() // the DB is slow: the refresh cannot finish during this test
	const n = 100
	r := readAll(context.Background(), p, n)
	env.Repo.Release() // let blocked callers finish before cleanup
	require.Equal(t, n, r.answered, "DB が処理中の間に戻った GetStaleWhileRevalidate は %d 本中 %d 本だけでした%s。期待は %d 本すべてが古い値ですぐに戻ること — %s",
		n, r.answered, r.why(), n, readme)
	const stale = "答え %v、エラー %v。期待は古い値 \"old\" × %d — %s"
	require.Empty(t, r.errs, stale, r.values, r.errs, n, readme)
	require.Equal(t, n, r.values["old"], stale, r.values, r.errs, n, readme)
}

func TestSWR_OneBackgroundRefreshUpdatesTheCache(t *testing.T) {
	env, p := staleKey(t)
	env.Repo.Hold()
	r := readAll(context.Background(), p, 50)
	if r.answered != 50 || r.values["old"] != 50 {
		env.Repo.Release()
	}
	const blocked = "DB が処理中の間に戻った古い値の読み込みは 50 本中 %d 本だけでした%s（答え %v）。期待は \"old\" × 50 がすぐに戻ること — %s"
	require.Equal(t, 50, r.answered, blocked, r.answered, r.why(), r.values, readme)
	require.Equal(t, 50, r.values["old"], blocked, r.answered, r.why(), r.values, readme)
	env.Repo.WaitLoads(t, 1, "古い値を読んだ後、バックグラウンド更新が DB に届きませんでした — "+readme)
	env.Repo.Release()
	require.NoError(t, p.Close(), "Close") // waits for the refresh
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "古い値の読み込み 50 本で、DB へのクエリが %d 回始まりました。期待はキーごとにバックグラウンド更新 1 回 — %s", got, readme)
	raw, _ := env.Redis.Mini.Get("product:1")
	assert.Contains(t, raw, `"value":"value:product:1"`, "更新後のキャッシュの中身が %q です。期待は DB の新しい値 — %s", raw, readme)

	// A key that is not cached at all is loaded like Get.
	env2 := testutil.NewEnv(t)
	p2 := env2.Protector(t, env2.Config())
	d, err := p2.GetStaleWhileRevalidate(t.Context(), "missing")
	const uncached = "キャッシュにないキーの GetStaleWhileRevalidate が %v, %v を返しました。期待は Get と同じように読み込むこと — %s"
	require.NoError(t, err, uncached, d, err, readme)
	require.NotNil(t, d, uncached, d, err, readme)
	assert.Equal(t, "value:missing", d.Value, uncached, d, err, readme)
}

func TestSWR_CloseWaitsForTheRefresh(t *testing.T) {
	env, p := staleKey(t)
	env.Repo.Hold()
	r := readAll(context.Background(), p, 1)
	if r.answered != 1 {
		env.Repo.Release()
	}
	require.Equal(t, 1, r.answered, "DB が処理中の間、古いキーの GetStaleWhileRevalidate が戻りませんでした%s。期待は古い値ですぐに戻ること — %s", r.why(), readme)
	env.Repo.WaitLoads(t, 1, "バックグラウンド更新が DB に届きませんでした — "+readme)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	testutil.Eventually(t, func() bool {
		_, err := p.Get(context.Background(), "other")
		return errors.Is(err, testutil.ErrClosed)
	}, bound, "Close を呼んだ後も Get が ErrClosed を返しませんでした")
	select {
	case err := <-closed:
		env.Repo.Release()
		require.Fail(t, "Close がバックグラウンド更新を待たなかった", "バックグラウンド更新がまだ読み込み中なのに、Close が戻りました（%v）。更新を追跡し、Close でその終了を待つこと — %s", err, readme)
	case <-time.After(100 * time.Millisecond): // a Close that does not wait returns at once
	}
	env.Repo.Release()
	require.NoError(t, <-closed, "Close")
	assert.Equal(t, int64(1), env.Repo.Completed(), "更新が終わる前に Close が戻りました — %s", readme)
}

// setNX counts the lock attempts (SET ... NX) that one client sends.
type setNX struct{ n atomic.Int64 }

func (h *setNX) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *setNX) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *setNX) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); len(args) > 0 && strings.EqualFold(fmt.Sprint(args[0]), "set") {
			for _, a := range args[3:] {
				if strings.EqualFold(fmt.Sprint(a), "nx") {
					h.n.Add(1)
				}
			}
		}
		return next(ctx, cmd)
	}
}

func TestSWR_OneRefreshPerKeyInAProcess(t *testing.T) {
	env := testutil.NewEnv(t)
	client := env.Redis.Client(t)
	var locks setNX
	client.AddHook(&locks)
	cfg := env.Config()
	cfg.TTL, cfg.StaleTTL, cfg.JitterPercent = time.Minute, time.Minute, 0
	cfg.LockPollInterval = time.Millisecond
	p, err := testutil.NewProtector(client, env.Repo, cfg)
	require.NoError(t, err, "NewProtector")
	require.NoError(t, p.Set(t.Context(), "product:1", &testutil.Data{Key: "product:1", Value: "old"}, time.Minute), "Set")
	env.Clock.Advance(61 * time.Second)
	env.Repo.Hold()
	r := readAll(context.Background(), p, 50)
	env.Repo.Release()
	require.NoError(t, p.Close(), "Close") // waits for every refresh
	require.Equal(t, 50, r.answered, "DB が処理中の間に戻った古い値の読み込みは 50 本中 %d 本だけでした%s — %s", r.answered, r.why(), readme)
	got := locks.n.Load()
	assert.Equal(t, int64(1), got, "1 つのキーの古い値を 50 本読んで、ロックの取得を %d 回試みました。期待は 1 回（キーごとにバックグラウンド更新は 1 本）。更新中のキーを覚えておき（refreshSet）、更新が走っている間は新しく始めないこと — %s", got, readme)
}

// TestSWR_RefreshOutlivesTheCallersContext: the caller's ctx ends with its request, moments after the stale answer.
// The refresh must not run on it, or it fails (or never reaches the DB) and the key stays stale.
func TestSWR_RefreshOutlivesTheCallersContext(t *testing.T) {
	env, p := staleKey(t)
	env.Repo.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	r := readAll(ctx, p, 1)
	if r.answered != 1 {
		env.Repo.Release()
		cancel()
		require.Fail(t, "古い値がすぐに戻らなかった", "DB が処理中の間、古いキーの GetStaleWhileRevalidate が戻りませんでした%s。期待は古い値ですぐに戻ること — %s", r.why(), readme)
	}
	cancel() // the request is over
	require.Empty(t, r.errs, "GetStaleWhileRevalidate — %s", readme)
	require.Equal(t, 1, r.values["old"], "古いキーの GetStaleWhileRevalidate が %v を返しました。期待は古い値 \"old\" — %s", r.values, readme)
	env.Repo.Release()
	require.NoError(t, p.Close(), "Close") // waits for the refresh
	raw, _ := env.Redis.Mini.Get("product:1")
	assert.Contains(t, raw, `"value":"value:product:1"`,
		"呼び出し元の ctx がキャンセルされた後、バックグラウンド更新が終わってもキャッシュの中身は %q のままでした（DB への読み込み %d 回）。更新は呼び出し元の ctx ではなく context.Background() で走らせること。ctx はリクエストと一緒に終わります — %s",
		raw, env.Repo.Loads(), readme)
}

// TestSWR_KeyIsRefreshedAgainWhenStaleAgain: once a refresh ends, its key leaves the refresh set, so that the next
// time the key is stale, a new refresh starts.
func TestSWR_KeyIsRefreshedAgainWhenStaleAgain(t *testing.T) {
	env, p := staleKey(t)
	d, err := p.GetStaleWhileRevalidate(t.Context(), "product:1")
	require.NoError(t, err, "GetStaleWhileRevalidate — %s", readme)
	require.Equal(t, "old", d.Value, "古いキーの GetStaleWhileRevalidate が %q を返しました。期待は古い値 \"old\" をすぐに返すこと — %s", d.Value, readme)
	testutil.Eventually(t, func() bool { return env.Repo.Completed() == 1 }, bound, "1 回目のバックグラウンド更新が DB に届きませんでした — %s", readme)
	env.WaitWriteBack(t, "product:1", "lock:product:1")
	env.Clock.Advance(61 * time.Second) // stale again
	// Stale reads until a second refresh reaches the DB: the first refresh may still be leaving the refresh set.
	ok := testutil.WaitUntil(func() bool {
		d, err := p.GetStaleWhileRevalidate(t.Context(), "product:1")
		return err == nil && d.Value == "value:product:1" && env.Repo.Completed() >= 2
	}, bound)
	assert.True(t, ok, "キーがもう一度古くなっても、%v 以内に 2 回目の更新が始まりませんでした（DB への読み込み %d 回）。更新が終わったら、そのキーを refreshSet から外すこと（defer） — %s",
		bound, env.Repo.Loads(), readme)
}
